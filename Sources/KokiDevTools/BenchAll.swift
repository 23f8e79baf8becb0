import ArgumentParser
import Foundation
import Kafka
import KokiCommands
import Postgres

/// `koki-dev bench all` — every benchmark in one run, with the machine, written as JSON and a
/// Markdown table under bench/results/ (and printed).
struct BenchAll: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "all",
        abstract: "Run every benchmark; write bench/results/<date>-<host>.json and .md (KOKI_DATABASE_URL: a server to create databases on).")

    @Option(help: "Directory for the result files.") var out = "bench/results"
    @Flag(help: "Smaller runs (minutes instead of tens of minutes), e.g. for a quick look.") var quick = false

    mutating func run() async throws {
        let started = Date()
        let machine = try await Self.machine()
        print("koki bench all on \(machine["cores"] ?? "?") cores, \(machine["memory"] ?? "?"), \(machine["os"] ?? "?")")
        let q = quick
        var kafka = try KafkaBench.parse(["--messages", q ? "20000" : "100000"])
        try await kafka.run()
        var postgres = try PostgresBench.parse(["--rows", q ? "20000" : "100000"])
        try await postgres.run()
        // Runs long enough that the first second (a new database, the first fetches) weighs
        // little: at 20,000 events the sample pipeline measured a fifth below its steady rate.
        // The pipelines' figures are the median of three runs (one run varies by up to 7%).
        var runtime = try RuntimeBench.parse(["--events", q ? "5000" : "100000", "--slow-events", q ? "1000" : "3000",
                                              "--runs", q ? "1" : "3"])
        try await runtime.run()
        var resident = try ResidentBench.parse(["--residents", q ? "5000" : "60000", "--per-event-residents", q ? "500" : "2000",
                                                "--runs", q ? "1" : "3"])
        try await resident.run()
        var honsantei = try HonsanteiBench.parse(["--residents", q ? "60000" : "600000"])
        try await honsantei.run()
        var payments = try PaymentsBench.parse(["--insured", q ? "10000" : "90000"])
        try await payments.run()
        var latency = try LatencyBench.parse(["--rate", "1000", "--seconds", q ? "10" : "30"])
        try await latency.run()

        let figures = BenchRecord.figures
        let stamp = ISO8601DateFormatter().string(from: started)
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "host"
        let stem = "\(stamp.prefix(10))-\(host)\(q ? "-quick" : "")"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let json: [String: Any] = [
            "started": stamp, "seconds": Int(Date().timeIntervalSince(started)), "quick": q, "machine": machine,
            "figures": figures.map { ["name": $0.name, "value": $0.value.isNaN ? NSNull() : $0.value as Any, "unit": $0.unit,
                                      "detail": $0.detail] },
        ]
        let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try data.write(to: URL(fileURLWithPath: "\(out)/\(stem).json"))
        let markdown = Self.markdown(figures, machine: machine, started: stamp, quick: q)
        try Data(markdown.utf8).write(to: URL(fileURLWithPath: "\(out)/\(stem).md"))
        print("\n" + markdown)
        print("koki bench all: wrote \(out)/\(stem).json and .md")
    }

    static func markdown(_ figures: [BenchFigure], machine: [String: String], started: String, quick: Bool) -> String {
        var lines = ["# koki bench all — \(started)\(quick ? " (quick)" : "")", "",
                     machine.keys.sorted().map { "- \($0): \(machine[$0]!)" }.joined(separator: "\n"), "",
                     "| figure | value | unit | detail |", "|---|---:|---|---|"]
        for f in figures { lines.append("| \(f.name) | \(f.formattedValue) | \(f.unit) | \(f.detail) |") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Cores, memory, OS, and the versions the figures depend on.
    static func machine() async throws -> [String: String] {
        var info: [String: String] = [
            "cores": String(ProcessInfo.processInfo.activeProcessorCount),
            "memory": String(format: "%.1f GiB", Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824),
            "os": ProcessInfo.processInfo.operatingSystemVersionString,
            "librdkafka": KafkaVersion.string,
        ]
        #if compiler(>=6.3)
        info["swift"] = "6.3 or later"
        #else
        info["swift"] = "before 6.3"
        #endif
        if let cpu = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
            .split(separator: "\n").first(where: { $0.hasPrefix("model name") }) {
            info["cpu"] = cpu.split(separator: ":").last.map { $0.trimmingCharacters(in: .whitespaces) }
        }
        let conn = try await PostgresConnection.connect(PostgresConnection.conninfo())
        info["postgresql"] = try await conn.run { try $0.query("SHOW server_version")[0].decode(String.self, at: 0) }
        return info
    }
}
