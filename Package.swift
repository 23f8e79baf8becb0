// swift-tools-version:6.0
import PackageDescription

// Every dependency comes from the local mirror (/opt/swift-packages) at a listed version.
let package = Package(
    name: "koki",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "koki", targets: ["koki"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
    ],
    targets: [
        .systemLibrary(name: "CLibrdkafka", pkgConfig: "rdkafka", providers: [.apt(["librdkafka-dev"])]),
        .systemLibrary(name: "CLibpq", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .target(name: "KokiBase"),
        .target(name: "Kafka", dependencies: ["CLibrdkafka", "KokiBase"]),
        .target(name: "Postgres", dependencies: ["CLibpq", "KokiBase"]),
        .target(name: "KokiEvents", dependencies: ["KokiBase"]),
        .target(name: "KokiCommands", dependencies: [
            "Kafka", "Postgres", "KokiBase", "KokiEvents",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "koki", dependencies: ["KokiCommands"]),
        .testTarget(name: "KokiBaseTests", dependencies: ["KokiBase"]),
        .testTarget(name: "KafkaTests", dependencies: ["Kafka", "KokiBase"]),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "KokiBase"]),
    ],
    swiftLanguageModes: [.v6]
)
