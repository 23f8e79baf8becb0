import ArgumentParser
import Foundation
import Kafka
import KokiBase
import KokiCommands
import Postgres

/// `koki-dev bench …` — prints throughput figures. Benchmarks measure; tests assert behaviour.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print performance figures for this machine.",
        subcommands: [BenchAll.self, KafkaBench.self, PostgresBench.self, RuntimeBench.self, ResidentBench.self, HonsanteiBench.self,
                      PaymentsBench.self, LatencyBench.self])
}

/// One measured figure: a rate (`count` per `seconds`) or a plain value (ms, MB).
struct BenchFigure: Sendable, Codable {
    let name: String
    let value: Double
    let unit: String
    let detail: String

    init(name: String, count: Int, seconds: Double, unit: String, detail: String = "") {
        self.name = name
        self.value = seconds > 0 ? Double(count) / seconds : 0
        self.unit = "\(unit)/s"
        self.detail = "\(count) \(unit) in " + String(format: "%.3f s", seconds) + (detail.isEmpty ? "" : "; " + detail)
    }

    init(name: String, value: Double, unit: String, detail: String = "") {
        self.name = name
        self.value = value
        self.unit = unit
        self.detail = detail
    }

    var formattedValue: String { value.isNaN ? "—" : value >= 100 ? String(format: "%.0f", value) : String(format: "%.1f", value) }

    var line: String {
        "\(name.padding(toLength: max(52, name.count), withPad: " ", startingAt: 0)) \(formattedValue) \(unit)" + (detail.isEmpty ? "" : "  (\(detail))")
    }
}

/// Every figure printed in this process, for `koki-dev bench all`'s files.
enum BenchRecord {
    nonisolated(unsafe) private static var recorded: [BenchFigure] = []
    private static let lock = NSLock()

    static func report(_ figure: BenchFigure) {
        print(figure.line)
        fflush(nil)
        lock.lock()
        recorded.append(figure)
        lock.unlock()
    }

    static var figures: [BenchFigure] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }
}

func measure<T>(_ body: () async throws -> T) async rethrows -> (T, Double) {
    let start = ContinuousClock.now
    let value = try await body()
    let elapsed = ContinuousClock.now - start
    return (value, elapsed.inSeconds)
}

struct KafkaBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kafka",
        abstract: "Idempotent produce and group consume msgs/s (on an in-process mock cluster unless KOKI_KAFKA_BROKERS is set).")

    @Option(help: "Messages to produce and consume.")
    var messages: Int = 100_000

    // librdkafka 2.0.2's mock cluster keeps at most 5 MB per partition (older message
    // sets are dropped, like retention): messages × size / partitions must stay under it.
    @Option(help: "Value size in bytes.")
    var size: Int = 200

    @Option(help: "Use this existing topic instead of creating one (brokers without CreateTopics, such as a `koki-dev broker`).")
    var topic: String?

    mutating func run() async throws {
        var cluster: MockKafkaCluster? = nil
        let config: KafkaConfig
        if ProcessInfo.processInfo.environment["KOKI_KAFKA_BROKERS"] != nil {
            config = try KafkaConfig.fromEnvironment(clientID: "koki-bench")
        } else {
            cluster = try MockKafkaCluster(brokers: 3)
            config = cluster!.config(clientID: "koki-bench")
        }
        let topic = self.topic ?? "bench.kafka.\(UInt32.random(in: 0...UInt32.max))"
        if self.topic != nil {
            // Given: it exists.
        } else if let cluster {
            try cluster.createTopic(topic, partitions: 12, replicationFactor: 3)
        } else {
            try await KafkaAdmin(config: config).createTopics([NewTopic(name: topic, partitions: 12)])
        }
        let value = [UInt8](repeating: UInt8(ascii: "x"), count: size)
        let producer = try KafkaProducer(config: config)
        let batch = 10_000
        // Messages are built before the clock starts: the figure is the client's, not the bench's.
        let prepared = (0..<messages).map { i in
            OutgoingMessage(topic: topic, key: Array(String(i % 50_000).utf8), value: value,
                            headers: [KafkaHeader("ce_id", "bench-\(i)")])
        }
        // The first delivery includes connecting and the idempotent producer's
        // InitProducerId (about a second on the mock); it is not throughput.
        _ = try await producer.send(OutgoingMessage(topic: topic, key: "warm-up", value: "warm-up"))
        let (_, produceSeconds) = try await measure {
            var sent = 0
            while sent < messages {
                let count = min(batch, messages - sent)
                let results = try await producer.send(Array(prepared[sent..<sent + count]))
                if let failure = results.first(where: { if case .failure = $0 { true } else { false } }) {
                    throw fail("a delivery failed: \(failure)")
                }
                sent += count
            }
        }
        BenchRecord.report(BenchFigure(name: "kafka produce (idempotent, acks=all)", count: messages, seconds: produceSeconds, unit: "msgs"))

        let consumer = try KafkaConsumer(config: config, groupID: "bench-\(topic)")
        try consumer.subscribe([topic])
        var received = -1  // the warm-up message
        // The first poll includes joining the group; time from the first message on.
        var first: ContinuousClock.Instant? = nil
        let deadline = ContinuousClock.now + .seconds(60)
        while received < messages, ContinuousClock.now < deadline {
            let result = try await consumer.poll(maxMessages: 5000, timeout: .milliseconds(500))
            if first == nil, !result.messages.isEmpty { first = .now }
            received += result.messages.count
        }
        let elapsed = first.map { ContinuousClock.now - $0 } ?? .zero
        BenchRecord.report(BenchFigure(name: "kafka consume (group, after the join)", count: received, seconds: elapsed.inSeconds,
                                       unit: "msgs"))
        if received < messages { print("kafka consume: only \(received) of \(messages) arrived within 60 s") }
        try await consumer.close()
        try await producer.flush(timeout: .seconds(5))
        withExtendedLifetime((producer, cluster)) {}
    }
}

struct PostgresBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "postgres",
        abstract: "COPY and batched-upsert rows/s against KOKI_DATABASE_URL (or PG* variables).")

    @Option(help: "Rows per measurement.")
    var rows: Int = 100_000

    mutating func run() async throws {
        let conn = try await PostgresConnection.connect(PostgresConnection.conninfo())
        let count = rows
        let figures = try await conn.run { conn -> [BenchFigure] in
            try conn.executeScript(unsafeSQL: """
                DROP TABLE IF EXISTS bench_rows;
                CREATE TEMP TABLE bench_rows (id bigint PRIMARY KEY, atena_no text NOT NULL,
                    amount integer NOT NULL, day date NOT NULL, note text)
                """)
            let day = LocalDate(year: 2026, month: 4, day: 1)!
            var figures: [BenchFigure] = []
            var start = Date()
            _ = try conn.transaction { tx in
                try tx.copyIn(table: "bench_rows", columns: ["id", "atena_no", "amount", "day", "note"],
                              rows: (0..<count).lazy.map { i -> [any PostgresEncodable] in
                                  [i, String(format: "%010d", i), i % 100_000, day, Optional<String>.none]
                              })
            }
            figures.append(BenchFigure(name: "postgres COPY FROM STDIN (one transaction)", count: count,
                                       seconds: Date().timeIntervalSince(start), unit: "rows"))
            start = Date()
            try conn.transaction { tx in
                for base in stride(from: 0, to: count, by: 1000) {
                    let ids = Array(base..<min(base + 1000, count))
                    try tx.execute("""
                        INSERT INTO bench_rows (id, atena_no, amount, day)
                        SELECT id, lpad(id::text, 10, '0'), amount, \(day)
                        FROM unnest(\(ids)::bigint[], \(ids.map { $0 % 7000 })::int[]) AS u(id, amount)
                        ON CONFLICT (id) DO UPDATE SET amount = EXCLUDED.amount
                        """)
                }
            }
            figures.append(BenchFigure(name: "postgres unnest upsert (1000 rows/statement)", count: count,
                                       seconds: Date().timeIntervalSince(start), unit: "rows"))
            return figures
        }
        figures.forEach(BenchRecord.report)
    }
}
