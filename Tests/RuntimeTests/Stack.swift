import Foundation
import Kafka
import Postgres
import Testing

/// One test's whole runtime: a mock Kafka cluster in this process, a migrated database,
/// and koki-sample-worker / koki-relay as child processes.
final class Stack: @unchecked Sendable {  // used from one test task
    let cluster: MockKafkaCluster
    let databaseURL: String
    let input = "sample.events.v1"
    let output = "sample.derived.v1"
    let group = "sample-workers"
    let producer: KafkaProducer
    var children: [ChildProcess] = []

    init(databaseURL: String? = nil, inputPartitions: Int = 4) async throws {
        cluster = try MockKafkaCluster(brokers: 3)
        try cluster.createTopic(input, partitions: inputPartitions, replicationFactor: 3)
        try cluster.createTopic(output, partitions: 3, replicationFactor: 3)
        try cluster.createTopic(input + ".dlq", partitions: 1, replicationFactor: 3)
        if let databaseURL {
            self.databaseURL = databaseURL
        } else {
            self.databaseURL = try await MigratedDatabase.create()
        }
        producer = try KafkaProducer(config: cluster.config())
    }

    var environment: [String: String] {
        [
            "KOKI_KAFKA_BROKERS": cluster.bootstrapServers,
            "KOKI_KAFKA_PROPERTIES": "session.timeout.ms=4000;heartbeat.interval.ms=500",
            "KOKI_DATABASE_URL": databaseURL,
            "KOKI_GROUP_ID": group,
            "KOKI_BATCH_MAX_EVENTS": "500",
            "KOKI_RETRY_MAX_MS": "1000",
            "KOKI_SHUTDOWN_BUDGET_S": "20",
        ].merging(TestDeadLetterKeys.environment) { $1 }
    }

    @discardableResult
    func startWorker(port: Int = 0, extra: [String: String] = [:]) throws -> ChildProcess {
        var env = environment
        env["KOKI_HTTP_PORT"] = String(port)
        env.merge(extra) { _, new in new }
        let child = try ChildProcess("koki-sample-worker", environment: env)
        children.append(child)
        return child
    }

    @discardableResult
    func startRelay(port: Int = 0) throws -> ChildProcess {
        var env = environment
        env["KOKI_HTTP_PORT"] = String(port)
        let child = try ChildProcess("koki-relay", environment: env)
        children.append(child)
        return child
    }

    /// Sends sample events `range` (ids e<n>, items i<n % items>, value n); all must be delivered.
    func send(_ range: Range<Int>, items: Int = 500) async throws {
        let results = try await producer.send(range.map {
            sampleEvent(topic: input, id: "e\($0)", item: "i\($0 % items)", value: $0)
        })
        #expect(results.allSatisfy { if case .success = $0 { true } else { false } })
    }

    func send(_ messages: [OutgoingMessage]) async throws {
        let results = try await producer.send(messages)
        #expect(results.allSatisfy { if case .success = $0 { true } else { false } })
    }

    func db() async throws -> PostgresConnection {
        try await PostgresConnection.connect(databaseURL)
    }

    func count(_ sql: SQL) async throws -> Int {
        let conn = try await db()
        return try await conn.run { try $0.count(sql) }
    }

    /// Polls `condition` until true or the deadline; returns whether it became true.
    @discardableResult
    func waitUntil(_ timeout: Duration, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? await condition()) == true { return true }
            try await Task.sleep(for: .milliseconds(250))
        }
        return try await condition()
    }

    /// Every event applied exactly once, every derived event in the outbox exactly once,
    /// and — once the relay drained — every derived ce_id on the output topic.
    /// With `noDuplicates`, every derived event is on the topic exactly once (no relay died).
    func verifyExactlyOnce(events: Int, items: Int = 500, deadLetters: Int = 0, noDuplicates: Bool = false) async throws {
        let applied = try await waitUntil(.seconds(180)) {
            try await count("SELECT count(*) FROM inbox") >= events - deadLetters
        }
        let inboxCount = try await count("SELECT count(*) FROM inbox")
        #expect(applied, "all events applied in time (\(inboxCount) of \(events - deadLetters))")
        let conn = try await db()
        try await conn.run { conn throws in
            #expect(try conn.count("SELECT count(*) FROM inbox") == events - deadLetters)
            #expect(try conn.count("SELECT coalesce(sum(updates), 0)::int FROM sample_items") == events - deadLetters,
                    "each event applied exactly once")
            #expect(try conn.count("SELECT count(*) FROM outbox WHERE ce_type = 'sample.item-recorded'") == events - deadLetters,
                    "each derived event in the outbox exactly once")
            #expect(try conn.count("SELECT count(*) FROM dead_letters") == deadLetters)
        }
        let drained = try await waitUntil(.seconds(120)) {
            try await count("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0
        }
        #expect(drained, "the relay published the whole outbox")
        let expected = Set(try await conn.run { conn in
            try conn.query("SELECT ce_id FROM outbox WHERE topic = 'sample.derived.v1'").map { try $0.decode(String.self, at: 0) }
        })
        let consumer = try KafkaConsumer(config: cluster.config(properties: ["session.timeout.ms": "4000"]),
                                         groupID: "verify-\(UUID().uuidString)")
        try consumer.subscribe([output])
        var seen = Set<String>()
        var received = 0
        let deadline = ContinuousClock.now + .seconds(60)
        while !expected.isSubset(of: seen), ContinuousClock.now < deadline {
            let batch = try await consumer.poll(maxMessages: 5000, timeout: .milliseconds(300))
            for message in batch.messages where message.topic == output {
                received += 1
                if let id = message.headers.text("ce_id") { seen.insert(id) }
            }
        }
        if noDuplicates {
            received += try await consumer.poll(maxMessages: 5000, timeout: .seconds(1)).messages.count
            #expect(received == expected.count, "\(received - expected.count) derived events published twice")
        }
        try await consumer.close()
        #expect(expected.isSubset(of: seen), "\(expected.subtracting(seen).count) derived events missing from the topic")
        #expect(seen.isSubset(of: expected), "nothing on the topic that is not in the outbox")
    }

    /// Kills every child; called by `defer` at the end of each test.
    func stopAll() {
        for child in children { child.signal(SIGKILL) }
        LogScan.check(children)
    }
}
