// swift-tools-version:6.0
import PackageDescription

// Every dependency comes from the local mirror (/opt/swift-packages) at a listed version.
let package = Package(
    name: "koki",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "koki", targets: ["koki"]),
        .executable(name: "koki-dev", targets: ["koki-dev"]),
        .executable(name: "koki-relay", targets: ["koki-relay"]),
        .executable(name: "koki-sample-worker", targets: ["koki-sample-worker"]),
        .executable(name: "koki-resident-worker", targets: ["koki-resident-worker"]),
        .executable(name: "koki-tax-worker", targets: ["koki-tax-worker"]),
        .executable(name: "koki-payment-worker", targets: ["koki-payment-worker"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "3.12.3"),
    ],
    targets: [
        .systemLibrary(name: "CLibrdkafka", pkgConfig: "rdkafka", providers: [.apt(["librdkafka-dev"])]),
        .systemLibrary(name: "CLibpq", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .target(name: "KokiBase"),
        .target(name: "Kafka", dependencies: ["CLibrdkafka", "KokiBase"]),
        .target(name: "Postgres", dependencies: ["CLibpq", "KokiBase"]),
        .target(name: "KokiDomain", dependencies: ["KokiBase"]),
        .target(name: "KokiEvents", dependencies: ["KokiBase", "KokiDomain"]),
        .target(name: "KokiSecrets", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "WorkerRuntime", dependencies: [
            "Kafka", "Postgres", "KokiBase", "KokiEvents", "KokiSecrets",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .target(name: "KokiStore", dependencies: ["Postgres", "KokiBase", "KokiDomain", "KokiEvents"]),
        .target(name: "KokiSynth", dependencies: ["Kafka", "Postgres", "KokiBase", "KokiDomain", "KokiEvents"]),
        .target(name: "SampleWorker", dependencies: ["WorkerRuntime", "Postgres"]),
        .target(name: "ResidentWorker", dependencies: ["WorkerRuntime", "Postgres", "KokiBase", "KokiDomain", "KokiEvents",
                                                       "KokiStore", "KokiSecrets"]),
        .executableTarget(name: "koki-resident-worker", dependencies: ["ResidentWorker", "WorkerRuntime", "KokiSecrets"]),
        .target(name: "TaxWorker", dependencies: ["WorkerRuntime", "Postgres", "KokiBase", "KokiDomain", "KokiEvents", "KokiStore",
                                                  .product(name: "Logging", package: "swift-log")]),
        .executableTarget(name: "koki-tax-worker", dependencies: ["TaxWorker", "WorkerRuntime", "KokiStore"]),
        .target(name: "PaymentWorker", dependencies: ["WorkerRuntime", "Postgres", "KokiBase", "KokiDomain", "KokiEvents",
                                                      "KokiStore", .product(name: "Logging", package: "swift-log")]),
        .executableTarget(name: "koki-payment-worker", dependencies: ["PaymentWorker", "WorkerRuntime", "KokiStore"]),
        .executableTarget(name: "koki-sample-worker", dependencies: ["SampleWorker", "WorkerRuntime"]),
        .target(name: "Transfer", dependencies: ["WorkerRuntime", "Kafka", "Postgres", "KokiBase", "KokiDomain", "KokiSecrets"]),
        .executableTarget(name: "koki-relay", dependencies: ["WorkerRuntime", "Transfer", "KokiEvents", "KokiSecrets"]),
        // The operators' commands: no worker library, no synthetic data.
        .target(name: "KokiCommands", dependencies: [
            "Kafka", "Postgres", "KokiBase", "KokiDomain", "KokiEvents", "KokiStore", "WorkerRuntime", "Transfer", "KokiSecrets",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "koki", dependencies: ["KokiCommands"]),
        // The development tools (koki-dev: dev, synth, bench, chaos, broker): never in the image.
        .target(name: "KokiDevTools", dependencies: [
            "KokiCommands", "Kafka", "Postgres", "KokiBase", "KokiDomain", "KokiEvents", "KokiStore", "WorkerRuntime",
            "SampleWorker", "ResidentWorker", "TaxWorker", "PaymentWorker", "KokiSynth", "Transfer", "KokiSecrets",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "koki-dev", dependencies: ["KokiDevTools"]),
        .testTarget(name: "KokiBaseTests", dependencies: ["KokiBase"]),
        .testTarget(name: "KokiSecretsTests", dependencies: ["KokiSecrets", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "KokiDomainTests", dependencies: ["KokiDomain", "KokiBase", "KokiEvents", "KokiStore", "KokiSynth"]),
        .testTarget(name: "KafkaTests", dependencies: ["Kafka", "KokiBase"]),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "KokiBase"]),
        .testTarget(name: "RuntimeTests", dependencies: ["WorkerRuntime", "SampleWorker", "Kafka", "Postgres", "KokiBase",
                                                      "KokiDomain", "KokiEvents", "KokiStore", "KokiSynth", "ResidentWorker", "TaxWorker",
                                                      "PaymentWorker", "Transfer", "KokiSecrets",
                                                      // to write values sealed the way an older koki sealed them
                                                      .product(name: "Crypto", package: "swift-crypto")]),
    ],
    swiftLanguageModes: [.v6]
)
