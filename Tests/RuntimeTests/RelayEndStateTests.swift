import Foundation
import Kafka
import Logging
import Postgres
import Synchronization
import Testing
@testable import WorkerRuntime

/// H5: rows the relay cannot publish have an end state. A row Kafka refuses for good is held
/// with the reason and holds the later rows of its key (their order is never broken); a
/// producer that failed fatally is replaced and every row still goes out.
@Suite("Relay end states", .serialized)
struct RelayEndStateTests {
    let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    func row(_ topic: String, _ key: String, _ n: Int, bytes: Int = 0) -> OutboxRow {
        let body = bytes > 0 ? "{\"seq\":\(n),\"pad\":\"" + String(repeating: "x", count: bytes) + "\"}" : "{\"seq\":\(n)}"
        return OutboxRow(topic: topic, key: key, ceID: "\(key)-\(n)", ceType: "test.ordered",
                         headers: [KafkaHeader("ce_id", "\(key)-\(n)")], payload: Data(body.utf8))
    }

    func startRelay(_ cluster: MockKafkaCluster, _ url: String, metrics: RuntimeMetrics = RuntimeMetrics(),
                    producerMade: (@Sendable (KafkaProducer) -> Void)? = nil) -> (OutboxRelay, WorkerStatus) {
        var options = OutboxRelay.Options(instance: "test")
        options.pollInterval = .milliseconds(50)
        options.producerMade = producerMade
        let status = WorkerStatus()
        let relay = OutboxRelay(kafka: cluster.config(), databaseURL: url, options: options, policy: PassThroughPolicy(),
                                metrics: metrics, status: status, logger: quiet)
        Thread { try? relay.run() }.start()
        return (relay, status)
    }

    func waitUntil(_ timeout: Duration, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await condition()
    }

    func received(_ cluster: MockKafkaCluster, _ topic: String, atLeast: Int) async throws -> [String] {
        let consumer = try KafkaConsumer(config: cluster.config(), groupID: "check-\(UUID().uuidString)")
        try consumer.subscribe([topic])
        var ids: [String] = []
        let deadline = ContinuousClock.now + .seconds(20)
        while ids.count < atLeast, ContinuousClock.now < deadline {
            ids += try await consumer.poll(maxMessages: 100, timeout: .milliseconds(200)).messages.compactMap { $0.headers.text("ce_id") }
        }
        ids += try await consumer.poll(maxMessages: 100, timeout: .milliseconds(500)).messages.compactMap { $0.headers.text("ce_id") }
        try await consumer.close()
        return ids
    }

    @Test func aRowKafkaRefusesIsHeldAndHoldsItsKeysLaterRows() async throws {
        let url = try await MigratedDatabase.create()
        let cluster = try MockKafkaCluster(brokers: 3)
        let topic = "relay.refused.v1"
        try cluster.createTopic(topic, partitions: 3, replicationFactor: 3)
        let conn = try await PostgresConnection.connect(url)
        // K's second row is larger than Kafka takes; L's rows have nothing to do with it.
        let rows = [row(topic, "K", 1), row(topic, "K", 2, bytes: 1_100_000), row(topic, "K", 3), row(topic, "L", 1), row(topic, "L", 2)]
        try await conn.run { conn in try conn.transaction { try RuntimeStore.enqueue(rows, on: $0) } }
        let metrics = RuntimeMetrics()
        let (relay, status) = startRelay(cluster, url, metrics: metrics)
        defer { relay.requestStop() }
        #expect(try await waitUntil(.seconds(30)) {
            try await conn.run { try $0.count("SELECT count(*) FROM outbox WHERE published_at IS NOT NULL OR held_at IS NOT NULL") } == 5
        })
        let states = try await conn.run { conn in
            try conn.query("SELECT ce_id, published_at IS NOT NULL, coalesce(held_reason, ''), blocks_key FROM outbox ORDER BY id")
                .map { try ($0.decode(String.self, at: 0), $0.decode(Bool.self, at: 1), $0.decode(String.self, at: 2), $0.decode(Bool.self, at: 3)) }
        }
        #expect(states.map(\.0) == ["K-1", "K-2", "K-3", "L-1", "L-2"])
        #expect(states.map(\.1) == [true, false, false, true, true])
        #expect(states[1].2 == "Kafka refused it: larger than the 900000 bytes a message may have")
        #expect(states[2].2 == OutboxRelay.behindRefusedReason && states[1].3 && states[2].3)
        // The metric counts them by code, never by the sentence.
        let held = metrics.text().split(separator: "\n").filter { $0.hasPrefix("koki_outbox_held_total{") }
        #expect(Set(held.map { String($0.split(separator: " ")[0]) })
                == [#"koki_outbox_held_total{reason="kafka-refused"}"#, #"koki_outbox_held_total{reason="behind-refused"}"#], "\(held)")
        // A row of K written later waits behind them too; other keys flow.
        try await conn.run { conn in try conn.transaction { try RuntimeStore.enqueue([row(topic, "K", 4), row(topic, "L", 3)], on: $0) } }
        #expect(try await waitUntil(.seconds(30)) {
            try await conn.run { try $0.count("SELECT count(*) FROM outbox WHERE published_at IS NOT NULL OR held_at IS NOT NULL") } == 7
        })
        #expect(try await conn.run { try $0.count("SELECT count(*) FROM outbox WHERE ce_id = 'K-4' AND blocks_key") } == 1)
        #expect(try await conn.run { try $0.count("SELECT count(*) FROM outbox WHERE ce_id = 'L-3' AND published_at IS NOT NULL") } == 1)
        // Released, the refused row is refused again and its key's rows stay behind it, in order.
        #expect(try await conn.run { try OutboxOperations.release(try $0.query("SELECT id FROM outbox WHERE ce_id = 'K-2'")[0]
            .decode(Int64.self, at: 0), reason: "test: the limit raised", operatorName: "tester", on: $0) } == 3)
        #expect(try await conn.run {
            try $0.count("SELECT count(*) FROM operator_actions WHERE action = 'outbox-release' AND operator = 'tester' AND detail->>'released' = '3'")
        } == 1, "the release is recorded")
        #expect(try await waitUntil(.seconds(30)) {
            try await conn.run { try $0.count("SELECT count(*) FROM outbox WHERE held_at IS NOT NULL AND blocks_key") } == 3
        })
        let sent = try await received(cluster, topic, atLeast: 4)
        #expect(Set(sent) == ["K-1", "L-1", "L-2", "L-3"], "nothing of K after its refused row reached Kafka")
        #expect(status.isReady, "the relay stays ready: \(status.notReadyReason ?? "")")
    }

    @Test func aProducerThatFailedFatallyIsReplacedAndEveryRowGoesOut() async throws {
        let url = try await MigratedDatabase.create()
        let cluster = try MockKafkaCluster(brokers: 3)
        let topic = "relay.fatal.v1"
        try cluster.createTopic(topic, partitions: 3, replicationFactor: 3)
        let conn = try await PostgresConnection.connect(url)
        let made = Mutex<[KafkaProducer]>([])
        let (relay, _) = startRelay(cluster, url, producerMade: { producer in made.withLock { $0.append(producer) } })
        defer { relay.requestStop() }
        try await conn.run { conn in try conn.transaction { try RuntimeStore.enqueue((0..<20).map { row(topic, "K\($0 % 4)", $0) }, on: $0) } }
        #expect(try await waitUntil(.seconds(30)) {
            try await conn.run { try $0.count("SELECT count(*) FROM outbox WHERE published_at IS NOT NULL") } == 20
        })
        made.withLock { $0.first?.injectFatalError() }
        try await conn.run { conn in try conn.transaction { try RuntimeStore.enqueue((20..<40).map { row(topic, "K\($0 % 4)", $0) }, on: $0) } }
        #expect(try await waitUntil(.seconds(60)) {
            try await conn.run { try $0.count("SELECT count(*) FROM outbox WHERE published_at IS NOT NULL") } == 40
        })
        #expect(made.withLock { $0.count } == 2, "the failed producer was replaced once")
        let sent = try await received(cluster, topic, atLeast: 40)
        #expect(Set(sent).count == 40)
    }

    /// L11: a row whose stored headers cannot be read is held, never published without them.
    @Test func aRowWithUnreadableHeadersIsHeld() async throws {
        let url = try await MigratedDatabase.create()
        let cluster = try MockKafkaCluster(brokers: 1)
        let topic = "relay.headers.v1"
        try cluster.createTopic(topic, partitions: 1)
        let conn = try await PostgresConnection.connect(url)
        try await conn.run { conn throws in
            try conn.transaction { tx in
                try RuntimeStore.enqueue([row(topic, "K", 1)], on: tx)
                try tx.execute("""
                    INSERT INTO outbox (topic, message_key, bucket, ce_id, ce_type, headers, payload)
                    VALUES (\(topic), 'K', \(OutboxRow.bucket(of: "K")), 'K-2', 'test.ordered', '{"ce_id": "K-2"}', '\\x7b7d')
                    """)
            }
        }
        let (relay, _) = startRelay(cluster, url)
        defer { relay.requestStop() }
        #expect(try await waitUntil(.seconds(30)) {
            try await conn.run { try $0.count("SELECT count(*) FROM outbox WHERE published_at IS NOT NULL OR held_at IS NOT NULL") } == 2
        })
        #expect(try await conn.run { try $0.count("""
            SELECT count(*) FROM outbox WHERE ce_id = 'K-2' AND held_reason = 'the row''s headers cannot be read'
            """) } == 1)
        #expect(Set(try await received(cluster, topic, atLeast: 1)) == ["K-1"])
    }
}
