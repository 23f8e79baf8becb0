import ArgumentParser
import Foundation
import Kafka
import KokiBase
import KokiCommands
import KokiEvents
import KokiSecrets
import KokiSynth
import Postgres

/// `koki-dev bench latency` — event → transfer latency at a steady rate, and each process's
/// steady-state memory: the real executables (three workers and the relay) as children on a
/// mock cluster; resident events for people over 75 at `--rate` per second; the time from
/// sending each to receiving its first transfer on `transfer.koiki.v1`.
struct LatencyBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latency",
        abstract: "p50/p99 event → transfer latency at a steady rate, and RSS of every worker and the relay (real processes).")

    @Option(help: "Events per second.") var rate = 1_000
    @Option(help: "Seconds of steady load (the first fifth is warm-up, not counted).") var seconds = 30

    struct Result {
        var latencies: [Double] = []
        var sent = 0
        var received = 0
        var rss: [(String, Int)] = []
    }

    mutating func run() async throws {
        let result = try await Self.measure(rate: rate, seconds: seconds)
        for figure in Self.figures(result, rate: rate) { BenchRecord.report(figure) }
    }

    static func figures(_ r: Result, rate: Int) -> [BenchFigure] {
        let sorted = r.latencies.sorted()
        func percentile(_ p: Double) -> Double { sorted.isEmpty ? .nan : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
        var figures = [
            BenchFigure(name: "latency p50 event → transfer at \(rate)/s", value: percentile(0.50) * 1000, unit: "ms"),
            BenchFigure(name: "latency p99 event → transfer at \(rate)/s", value: percentile(0.99) * 1000, unit: "ms"),
            BenchFigure(name: "latency max event → transfer at \(rate)/s", value: (sorted.last ?? .nan) * 1000, unit: "ms"),
            BenchFigure(name: "latency events answered (of those sent)", value: Double(r.received), unit: "of \(r.sent)"),
        ]
        for (name, kb) in r.rss { figures.append(BenchFigure(name: "RSS \(name) (steady, under load)", value: Double(kb) / 1024, unit: "MB")) }
        return figures
    }

    static func measure(rate: Int, seconds: Int) async throws -> Result {
        let server = PostgresConnection.conninfo()
        let tag = "\(UInt32.random(in: 0...UInt32.max))"
        let databaseName = "koki_bench_latency_\(tag)"
        let result = try await measure(rate: rate, seconds: seconds, tag: tag,
                                       databaseURL: try await BenchDatabase.create(server: server, name: databaseName))
        try await BenchDatabase.drop(server: server, name: databaseName)
        return result
    }

    /// The measurement on a new database, every process stopped when it returns.
    static func measure(rate: Int, seconds: Int, tag: String, databaseURL: String) async throws -> Result {
        let cluster = try MockKafkaCluster(brokers: 3)
        try cluster.createTopics(Topics.all.map { NewTopic(name: $0.name, partitions: $0.partitions, replicationFactor: 3) })
        let logs = URL(fileURLWithPath: NSTemporaryDirectory() + "koki-bench-latency-\(tag)")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        var env = ["KOKI_DATABASE_URL": databaseURL, "KOKI_KAFKA_BROKERS": cluster.bootstrapServers,
                   // The mock answers a fetch only when fetch.wait.max.ms runs out (a real broker answers
                   // as soon as data arrives): keep it short so the figure is koki's, not the mock's.
                   "KOKI_KAFKA_PROPERTIES": "session.timeout.ms=6000;heartbeat.interval.ms=1000;fetch.wait.max.ms=5",
                   // The synthetic year (2026) may lie ahead of the wall clock.
                   "KOKI_CLOCK_LATEST": "2027-03-31"]
        if try MyNumberIntake.fromEnvironment() == nil { env.merge(try throwawayMyNumberKeys(in: logs, id: "bench")) { $1 } }
        let bin = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let supervisor = Supervisor(binDirectory: bin, logDirectory: logs)
        defer { supervisor.stopAll() }
        let names = ["koki-relay", "koki-resident-worker", "koki-tax-worker", "koki-payment-worker"]
        for name in names { try supervisor.start(name, port: Dev.freePort(), environment: env) }
        try await supervisor.waitReady(timeout: .seconds(120))

        let producer = try KafkaProducer(config: cluster.config(clientID: "koki-bench-latency"))
        let factory = EventFactory(source: "urn:koki:bench")
        _ = try await producer.send(factory.businessDay(LocalDate(year: 2026, month: 4, day: 1)!))
        let consumer = try KafkaConsumer(config: cluster.config(properties: ["fetch.wait.max.ms": "5", "session.timeout.ms": "6000"]),
                                         groupID: "bench-latency-\(tag)")
        try consumer.subscribe(["transfer.koiki.v1"])
        // Join before the clock starts.
        let joinDeadline = ContinuousClock.now + .seconds(30)
        while consumer.assignment.isEmpty, ContinuousClock.now < joinDeadline { _ = try await consumer.poll(maxMessages: 100, timeout: .milliseconds(100)) }

        let arrivals = ArrivalLog()
        let reader = Task {
            while !Task.isCancelled {
                let batch = try await consumer.poll(maxMessages: 5000, timeout: .milliseconds(20))
                let now = ContinuousClock.now
                arrivals.record(batch.messages.compactMap(\.keyText), at: now)
            }
        }
        var people = SyntheticPeople(seed: 99)
        var sentAt: [String: ContinuousClock.Instant] = [:]
        let total = rate * seconds
        let tick = Duration.milliseconds(10)
        let perTick = max(1, rate / 100)
        let start = ContinuousClock.now
        var next = start
        var n = 0
        let address = people.kawaguchiAddress()
        while n < total {
            var batch: [OutgoingMessage] = []
            for _ in 0..<perTick where n < total {
                n += 1
                let atenaNo = String(8_000_000 + n).leftPadded(10)
                let person = ResidentChange.Person(nameKanji: "試験 花子", nameKana: "シケン ハナコ", sex: .female,
                                                   birthDate: LocalDate(year: 1945, month: 1, day: 1)!, relationshipToHead: .head,
                                                   residentStatus: .resident, address: address, previousAddress: nil)
                let change = ResidentChange(atenaNo: atenaNo, myNumber: people.myNumber(), householdNo: atenaNo,
                                            change: .init(effectiveDate: LocalDate(year: 2026, month: 3, day: 31)!,
                                                          notifiedDate: LocalDate(year: 2026, month: 3, day: 31)!), person: person)
                batch.append(factory.resident(.corrected, change, id: "latency-\(tag)-\(n)"))
                sentAt[atenaNo] = .now
            }
            _ = try await producer.send(batch)
            next = next + tick
            let wait = next - ContinuousClock.now
            if wait > .zero { try await Task.sleep(for: wait) }
        }
        // Steady-state memory, while the last of the load is still being worked.
        var result = Result()
        for child in supervisor.children { result.rss.append((child.name, Self.rssKB(child.pid))) }
        let deadline = ContinuousClock.now + .seconds(60)
        while arrivals.count(of: Set(sentAt.keys)) < sentAt.count, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        reader.cancel()
        _ = await reader.result
        try? await consumer.close()
        let warmUp = start + .seconds(max(1, seconds / 5))
        let first = arrivals.snapshot()
        result.sent = sentAt.count
        result.received = sentAt.keys.filter { first[$0] != nil }.count
        for (key, sent) in sentAt where sent >= warmUp {
            if let arrived = first[key] { result.latencies.append((arrived - sent).inSeconds) }
        }
        return result
    }

    /// VmRSS of a process, in kB (0 if it cannot be read).
    static func rssKB(_ pid: pid_t) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
        }
        return 0
    }
}

/// When each key's first transfer arrived.
final class ArrivalLog: @unchecked Sendable {  // guarded by lock
    private let lock = NSLock()
    private var first: [String: ContinuousClock.Instant] = [:]

    func record(_ keys: [String], at instant: ContinuousClock.Instant) {
        lock.lock()
        for key in keys where first[key] == nil { first[key] = instant }
        lock.unlock()
    }

    func count(of keys: Set<String>) -> Int {
        lock.lock()
        defer { lock.unlock() }
        return keys.filter { first[$0] != nil }.count
    }

    func snapshot() -> [String: ContinuousClock.Instant] {
        lock.lock()
        defer { lock.unlock() }
        return first
    }
}
