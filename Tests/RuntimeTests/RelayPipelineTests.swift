import Foundation
import Kafka
import Logging
import Postgres
import Testing
@testable import WorkerRuntime

/// The relay keeps several batches in flight (it sends the next before the last one's
/// delivery reports are back): each row must still go out exactly once, each key in order,
/// and each row be marked with the partition and offset it got.
@Suite("Relay pipelining", .serialized)
struct RelayPipelineTests {
    @Test func batchesInFlightKeepEachKeysOrderAndSendEachRowOnce() async throws {
        let url = try await MigratedDatabase.create()
        let cluster = try MockKafkaCluster(brokers: 3)
        let topic = "relay.order.\(UInt32.random(in: 0...UInt32.max))"
        try cluster.createTopic(topic, partitions: 3, replicationFactor: 3)
        let conn = try await PostgresConnection.connect(url)
        let keys = (0..<20).map { "key-\($0)" }
        let perRound = 50, rounds = 60
        // Rows of one key carry their sequence number; rounds are separate transactions, some
        // enqueued while the relay is already sending.
        func enqueue(round: Int) async throws {
            let rows = (0..<perRound).map { i -> OutboxRow in
                let n = round * perRound + i
                let key = keys[n % keys.count]
                return OutboxRow(topic: topic, key: key, ceID: "row-\(n)", ceType: "test.ordered",
                                 headers: [KafkaHeader("ce_id", "row-\(n)")], payload: Data("{\"seq\":\(n / keys.count)}".utf8))
            }
            try await conn.run { conn in try conn.transaction { try RuntimeStore.enqueue(rows, on: $0) } }
        }
        for round in 0..<(rounds / 2) { try await enqueue(round: round) }

        var options = OutboxRelay.Options(instance: "test")
        options.batchSize = 7  // per bucket: many small batches, several in flight
        options.batchesInFlight = 4
        options.pollInterval = .milliseconds(50)
        let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let relay = OutboxRelay(kafka: cluster.config(), databaseURL: url, options: options, policy: PassThroughPolicy(),
                                metrics: RuntimeMetrics(), status: WorkerStatus(), logger: quiet)
        let thread = Thread { try? relay.run() }
        thread.start()
        defer { relay.requestStop() }
        for round in (rounds / 2)..<rounds { try await enqueue(round: round) }

        let total = perRound * rounds
        let deadline = ContinuousClock.now + .seconds(120)
        while try await conn.run({ try $0.count("SELECT count(*) FROM outbox WHERE published_at IS NULL") }) > 0 {
            #expect(ContinuousClock.now < deadline, "the relay did not publish every row in time")
            if ContinuousClock.now >= deadline { return }
            try await Task.sleep(for: .milliseconds(50))
        }

        let consumer = try KafkaConsumer(config: cluster.config(), groupID: "check-\(topic)")
        try consumer.subscribe([topic])
        var received: [ConsumedMessage] = []
        let readDeadline = ContinuousClock.now + .seconds(60)
        while received.count < total, ContinuousClock.now < readDeadline {
            received += try await consumer.poll(maxMessages: 1000, timeout: .milliseconds(200)).messages
        }
        try await consumer.close()

        let ids = received.compactMap { $0.headers.text("ce_id") }
        #expect(ids.count == total)
        #expect(Set(ids).count == total, "a row went out more than once")
        var lastSeq: [String: Int] = [:]
        var inOrder = true
        for message in received.sorted(by: { ($0.partition, $0.offset) < ($1.partition, $1.offset) }) {
            let key = message.keyText ?? ""
            let body = try #require(try JSONSerialization.jsonObject(with: Data(message.value ?? [])) as? [String: Any])
            let seq = try #require(body["seq"] as? Int)
            if let last = lastSeq[key], seq <= last { inOrder = false }
            lastSeq[key] = seq
        }
        #expect(inOrder, "a key's rows went out of order")
        #expect(lastSeq.count == keys.count)

        // Each row is marked with where it landed.
        let marked = try await conn.run { conn in
            try conn.query("SELECT ce_id, published_partition, published_offset FROM outbox").map {
                try $0.decode(String.self, Int32.self, Int64.self)
            }
        }
        var landed: [String: (Int32, Int64)] = [:]
        for message in received {
            if let id = message.headers.text("ce_id") { landed[id] = (message.partition, message.offset) }
        }
        #expect(marked.count == total)
        let misplaced = marked.filter { id, partition, offset in
            guard let spot = landed[id] else { return true }
            return spot.0 != partition || spot.1 != offset
        }
        #expect(misplaced.count == 0, "rows marked with a partition or offset other than where they landed")
    }
}
