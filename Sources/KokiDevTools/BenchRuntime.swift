import ArgumentParser
import Foundation
import Kafka
import KokiBase
import KokiCommands
import KokiEvents
import KokiStore
import Logging
import Postgres
import SampleWorker
import WorkerRuntime

/// `koki-dev bench runtime` — the sample worker end to end: N events produced up front, then
/// timed from the worker's assignment until every event is applied and every derived
/// event published by the relay. Runs the worker loop and the relay in this process
/// against an in-process mock cluster and a fresh database on the configured server.
struct RuntimeBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runtime",
        abstract: "End-to-end events/s of the sample worker at several batch sizes, and in one-transaction-per-event mode.")

    @Option(help: "Events per batched run.")
    var events: Int = 20_000

    @Option(help: "Events per run for batch size 1 and the per-event mode (they are slow).")
    var slowEvents: Int = 3_000

    @Option(parsing: .upToNextOption, help: "Batch sizes to measure.")
    var batchSizes: [Int] = [1, 100, 1000]

    @Option(help: "Runs per figure; the figure is the median run (its detail lists them all).")
    var runs: Int = 1

    mutating func run() async throws {
        let server = PostgresConnection.conninfo()
        let cluster = try MockKafkaCluster(brokers: 3)
        for perEvent in [false, true] {
            for size in batchSizes {
                let n = (size == 1 || perEvent) ? slowEvents : events
                let ((applied, published), spread) = try await MedianRun.of(runs, events: n, seconds: \.1) {
                    try await Self.measure(events: n, batch: size, perEvent: perEvent, cluster: cluster, server: server)
                }
                let mode = perEvent ? "per-event transactions" : "batch transactions"
                BenchRecord.report(BenchFigure(name: "sample worker end to end, \(mode), batch \(size)", count: n, seconds: published,
                                               unit: "events", detail: String(format: "all applied after %.3f s", applied) + spread))
            }
        }
    }

    /// Seconds until every event was applied, and until every derived event was published.
    static func measure(events n: Int, batch: Int, perEvent: Bool, cluster: MockKafkaCluster,
                        server: String) async throws -> (Double, Double) {
        let tag = "\(UInt32.random(in: 0...UInt32.max))"
        let input = "bench.events.\(tag)", output = "bench.derived.\(tag)"
        try cluster.createTopic(input, partitions: 6, replicationFactor: 3)
        try cluster.createTopic(output, partitions: 6, replicationFactor: 3)
        try cluster.createTopic(input + ".dlq", partitions: 1, replicationFactor: 3)
        let messages = (0..<n).map { i in
            OutgoingMessage(topic: input, key: "item-\(i % 5000)", value: "{\"itemId\":\"item-\(i % 5000)\",\"value\":\(i)}",
                            headers: [KafkaHeader("ce_specversion", "1.0"), KafkaHeader("ce_id", "bench-\(tag)-\(i)"),
                                      KafkaHeader("ce_type", SampleHandler.eventType), KafkaHeader("ce_source", "urn:bench"),
                                      KafkaHeader("content-type", "application/json")])
        }
        let run = PipelineRun(cluster: cluster, server: server, tag: tag, topics: [input],
                              handler: SampleHandler(outputTopic: output), batch: batch, perEvent: perEvent,
                              outputs: [output, input + ".dlq"])
        let (applied, published, _) = try await run.measure(messages)
        return (applied, published)
    }
}

/// One worker loop and one relay in this process, timed from the worker's assignment until
/// every produced event is applied and everything derived is published.
struct PipelineRun {
    let cluster: MockKafkaCluster
    let server: String
    let tag: String
    let topics: [String]
    let handler: any EventHandler
    let batch: Int
    let perEvent: Bool
    /// The topics the relay publishes to (warmed up before the clock starts): by default every
    /// contract topic the worker does not read.
    var outputs: [String]? = nil

    /// Seconds until every event was applied (or dead-lettered), and until the outbox was empty.
    /// `prepare` fills the new database before the worker starts; `check` looks at it after the
    /// run (and throws if what it finds is wrong).
    func measure(_ messages: [OutgoingMessage], prepare: (@Sendable (PostgresConnection) throws -> Void)? = nil,
                 check: (@Sendable (PostgresConnection) throws -> Void)? = nil) async throws
        -> (applied: Double, published: Double, deadLetters: Int) {
        let n = messages.count
        let databaseName = "koki_bench_\(tag)"
        let databaseURL = try await BenchDatabase.create(server: server, name: databaseName)
        if let prepare {
            let conn = try await PostgresConnection.connect(databaseURL)
            try await conn.run { try prepare($0) }
        }
        let producer = try KafkaProducer(config: cluster.config())
        let outputs = self.outputs ?? Topics.all.map(\.name).filter { !topics.contains($0) }
        // Connected (and its producer id obtained) before the clock starts.
        _ = try await producer.send(OutgoingMessage(topic: outputs.first ?? topics[0], key: "warm-up", value: "{}"))
        // Knows the input topics' leaders before the clock starts: the first message to a topic
        // waited about a second for them, with the worker idle (an upstream system in service
        // has long known them).
        try producer.prepare(topics: topics)

        let quiet = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
        let config = WorkerConfig(kafka: cluster.config(properties: ["session.timeout.ms": "6000"]), databaseURL: databaseURL,
                                  groupID: "bench-\(tag)", maxBatch: batch, maxWait: .milliseconds(20),
                                  transactionPerEvent: perEvent, connections: 2)
        let status = WorkerStatus()
        let loop = WorkerLoop(config: config, topics: topics, source: "urn:koki:bench", handler: handler,
                              metrics: RuntimeMetrics(), status: status, logger: quiet)
        var relayOptions = OutboxRelay.Options(instance: "bench")
        relayOptions.pollInterval = .milliseconds(50)
        let relay = OutboxRelay(kafka: cluster.config(), databaseURL: databaseURL, options: relayOptions,
                                policy: PassThroughPolicy(), metrics: RuntimeMetrics(), status: WorkerStatus(), logger: quiet)
        let stopped = DispatchGroup()
        let loopThread = Thread { try? loop.run(); stopped.leave() }
        let relayThread = Thread { try? relay.run(); stopped.leave() }
        stopped.enter()
        relayThread.start()
        defer {
            loop.requestStop()
            relay.requestStop()
        }
        let conn = try await PostgresConnection.connect(databaseURL)
        try await Self.warmUp(relay: conn, topics: outputs)
        stopped.enter()
        loopThread.start()

        // The clock starts once the group has assigned the partitions (the mock's first
        // join takes seconds; that is not throughput); then the events are produced, and the
        // worker reads them as they arrive.
        while status.notReadyReason != nil { try await Task.sleep(for: .milliseconds(5)) }
        let start = ContinuousClock.now
        try await produce(messages, with: producer, pacedBy: conn, group: config.groupID)
        var appliedAt: Duration? = nil
        while true {
            // How far the worker has read (every event is applied, dead-lettered or skipped as a
            // duplicate when its partition's offset passes it), then, once it has read all, what
            // the relay still holds: a few rows, where counting the inbox each time cost the
            // server a fifth of a core under this very measurement (and counting the outbox
            // before the end, 2% of the machine).
            let (allApplied, done) = try await conn.run { conn -> (Bool, Bool) in
                let read = try conn.query("""
                    SELECT coalesce(sum(next_offset), 0)::bigint FROM consumer_offsets WHERE consumer_group = \(config.groupID)
                    """)[0].decode(Int.self, at: 0)
                guard read == n else { return (false, false) }
                let unpublished = try conn.query("SELECT count(*) FROM outbox WHERE published_at IS NULL AND held_at IS NULL")[0]
                    .decode(Int.self, at: 0)
                return (true, unpublished == 0)
            }
            if allApplied, appliedAt == nil { appliedAt = ContinuousClock.now - start }
            if done { break }
            try await Task.sleep(for: .milliseconds(10))
            if ContinuousClock.now - start > .seconds(600) { throw fail("the run did not finish in 10 minutes") }
        }
        let published = (ContinuousClock.now - start).inSeconds
        let (settled, deadLetters) = try await conn.run {
            try $0.query("SELECT (SELECT count(*) FROM inbox)::int + (SELECT count(*) FROM dead_letters)::int, (SELECT count(*) FROM dead_letters)::int")[0]
                .decode(Int.self, Int.self)
        }
        guard settled == n else { throw fail("\(n) events were read but \(settled) applied or dead-lettered (duplicates?)") }
        if let check { try await conn.run { try check($0) } }
        // The next measurement's server should not be vacuuming this one's tables.
        loop.requestStop()
        relay.requestStop()
        await withCheckedContinuation { done in stopped.notify(queue: .global()) { done.resume() } }
        try await BenchDatabase.drop(server: server, name: databaseName)
        return ((appliedAt ?? .zero).inSeconds, published, deadLetters)
    }
}

extension PipelineRun {
    /// The mock keeps the last 5 MiB of each partition and drops older messages (a broker's
    /// retention of days shrunk to megabytes; not configurable in librdkafka 2.0.2): a worker
    /// that falls further behind than that never sees what was dropped. Upstream systems
    /// publish as things happen, never megabytes ahead of koki, so the benchmark keeps every
    /// partition's unapplied tail under 3 MiB and sends the rest as the worker catches up.
    static let unappliedBytesPerPartition = 3 << 20

    func produce(_ messages: [OutgoingMessage], with producer: KafkaProducer, pacedBy conn: PostgresConnection,
                 group: String) async throws {
        guard !messages.isEmpty else { return }
        let chunk = 5_000
        let bytes = messages.reduce(0) { total, message in
            total + (message.key?.count ?? 0) + (message.value?.count ?? 0) + 70
                + message.headers.reduce(0) { $0 + $1.key.utf8.count + ($1.value?.count ?? 0) + 8 }
        }
        let allowed = Int64(max(500, Self.unappliedBytesPerPartition / max(1, bytes / messages.count)))
        var ends: [TopicPartition: Int64] = [:]
        for first in stride(from: 0, to: messages.count, by: chunk) {
            try await waitForRoom(ends: ends, allowed: allowed, conn: conn, group: group)
            for result in try await producer.send(Array(messages[first..<min(messages.count, first + chunk)])) {
                guard case .success(let report) = result else { throw fail("producing the benchmark's events failed") }
                let tp = TopicPartition(report.topic, report.partition)
                ends[tp] = max(ends[tp] ?? 0, report.offset + 1)
            }
        }
    }

    /// Waits until no partition holds more than `allowed` events the worker has not applied
    /// (`ends`: each partition's next offset as produced).
    private func waitForRoom(ends: [TopicPartition: Int64], allowed: Int64, conn: PostgresConnection,
                             group: String) async throws {
        // No partition has received that many yet: nothing to ask.
        guard ends.contains(where: { $0.value > allowed }) else { return }
        while true {
            let applied = try await conn.run { conn in
                Dictionary(uniqueKeysWithValues: try conn.query(
                    "SELECT topic, partition, next_offset FROM consumer_offsets WHERE consumer_group = \(group)"
                ).map { row in
                    let (topic, partition, next) = try row.decode(String.self, Int32.self, Int64.self)
                    return (TopicPartition(topic, partition), next)
                })
            }
            if ends.allSatisfy({ $0.value - (applied[$0.key] ?? 0) <= allowed }) { return }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// A running relay's first delivery to a topic costs it about a second on the mock (the
    /// topic's metadata, connections to its leaders, the idempotent producer's id); a relay in
    /// service has long paid that. One row per output topic, published before the clock starts.
    static func warmUp(relay conn: PostgresConnection, topics: [String]) async throws {
        guard !topics.isEmpty else { return }
        try await conn.run { conn in
            try conn.execute("""
                INSERT INTO outbox (topic, message_key, bucket, ce_id, ce_type, headers, payload)
                SELECT t, NULL, 0, 'bench-warm-up:' || t, 'bench.warm-up', '[]'::json, '{}'::bytea FROM unnest(\(topics)::text[]) AS t
                """)
            try conn.execute("SELECT pg_notify('koki_outbox', '')")
        }
        let deadline = ContinuousClock.now + .seconds(60)
        while try await conn.run({ try $0.query("SELECT count(*) FROM outbox WHERE published_at IS NULL")[0].decode(Int.self, at: 0) }) > 0 {
            guard ContinuousClock.now < deadline else { throw fail("the relay did not publish its warm-up rows in 60 s") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// A pipeline figure from several runs: one run of a few seconds on the 2-core machine varied
/// by up to 7% either way (the mock brokers, the server's background work), so the figure is
/// the median run (of an even number, the slower of the middle two), and its detail says what
/// the others measured.
enum MedianRun {
    static func of<Run>(_ runs: Int, events: Int, seconds: (Run) -> Double,
                        _ measure: () async throws -> Run) async throws -> (Run, spread: String) {
        var results: [Run] = []
        for _ in 0..<max(1, runs) { results.append(try await measure()) }
        let sorted = results.sorted { seconds($0) < seconds($1) }
        guard sorted.count > 1 else { return (sorted[0], "") }
        let rates = sorted.reversed().map { String(format: "%.0f", Double(events) / seconds($0)) }
        return (sorted[sorted.count / 2], "; median of \(sorted.count) runs (events/s: \(rates.joined(separator: ", ")))")
    }
}

enum BenchDatabase {
    /// A new database on the server, with koki's migrations.
    static func create(server: String, name: String) async throws -> String {
        let admin = try await PostgresConnection.connect(server)
        try await admin.run { try $0.executeScript(unsafeSQL: "CREATE DATABASE \(name)") }
        let url = try database(name, on: server)
        let migrator = try Migrator(directory: URL(fileURLWithPath: ProcessInfo.processInfo.environment["KOKI_MIGRATIONS_DIR"] ?? "migrations"))
        let conn = try await PostgresConnection.connect(url)
        try await conn.run {
            try migrator.apply(on: $0)
            // The synthetic years may have rates the union has not decided: the 本算定 runs on them, on the record.
            for year in 2026...2027 {
                try TaxStore($0).approveProvisionalRates(fiscalYear: year, reason: "benchmark: a synthetic 年度 on provisional rates")
            }
        }
        return url
    }

    /// Drops a database `create` made, once its measurement is over (a failed run leaves
    /// its database to look at).
    static func drop(server: String, name: String) async throws {
        let admin = try await PostgresConnection.connect(server)
        try await admin.run { try $0.executeScript(unsafeSQL: "DROP DATABASE \(name) WITH (FORCE)") }
    }
}

/// The same server, another database: a URI gets a new path; a `key=value` string (or
/// the empty one, for `PG*` variables) gets `dbname`, which libpq lets the last one win.
func database(_ name: String, on server: String) throws -> String {
    guard server.hasPrefix("postgres://") || server.hasPrefix("postgresql://") else {
        return server + " dbname=\(name)"
    }
    guard var components = URLComponents(string: server) else { throw fail("KOKI_DATABASE_URL is not a valid URI") }
    components.path = "/" + name
    return components.string ?? server
}
