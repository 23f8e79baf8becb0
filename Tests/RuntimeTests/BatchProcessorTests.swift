import Foundation
import Kafka
import Postgres
import SampleWorker
import Testing
@testable import WorkerRuntime

/// The one-transaction batch, against a real PostgreSQL (no Kafka needed).
@Suite("Batch transaction")
struct BatchProcessorTests {
    let topic = "sample.events.v1"
    let tp = TopicPartition("sample.events.v1", 0)
    let processor = BatchProcessor(group: "g1", source: "urn:koki:test", handler: SampleHandler())

    func events(_ range: Range<Int>, items: Int = 7) -> [ConsumedMessage] {
        range.map { consumed(sampleEvent(topic: topic, id: "e\($0)", item: "i\($0 % items)", value: $0), offset: Int64($0)) }
    }

    @Test func aBatchAppliesStateInboxOutboxAndOffsetTogether() async throws {
        let conn = try await PostgresConnection.connect(try await MigratedDatabase.create())
        let trace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        var batch = events(0..<100)
        batch[0] = consumed(sampleEvent(topic: topic, id: "e0", item: "i0", value: 0, traceparent: trace), offset: 0)
        let input = batch
        let summary = try await conn.run { try processor.process(input, tp: tp, expected: nil, on: $0) }
        #expect(summary.applied == 100 && summary.derived == 100 && summary.nextOffsets == [tp: 100])
        try await conn.run { conn throws in
            #expect(try conn.count("SELECT sum(updates)::int FROM sample_items") == 100)
            #expect(try conn.count("SELECT count(*) FROM inbox WHERE consumer_group = 'g1'") == 100)
            #expect(try conn.count("SELECT count(*) FROM outbox WHERE ce_type = 'sample.item-recorded'") == 100)
            #expect(try conn.count("SELECT next_offset::int FROM consumer_offsets WHERE consumer_group = 'g1'") == 100)
            let headers = HeaderJSON.decode(try conn.query("""
                SELECT headers FROM outbox o WHERE headers::jsonb @> '[["koki_causation_id", "e0"]]'
                """)[0].decode(PostgresJSON.self, at: 0)) ?? []
            #expect(headers.text("ce_source") == "urn:koki:test")
            #expect(headers.text("traceparent")?.hasPrefix("00-0af7651916cd43dd8448eb211c80319c-") == true)
            #expect(headers.text("traceparent") != trace, "a new span id")
            #expect(headers.text("ce_id") != "e0")
        }
    }

    @Test func redeliveredEventsAreSkippedNotReapplied() async throws {
        let conn = try await PostgresConnection.connect(try await MigratedDatabase.create())
        _ = try await conn.run { try processor.process(events(0..<50), tp: tp, expected: nil, on: $0) }
        // The same events again at new offsets (a producer retry upstream), plus new ones,
        // plus a duplicate inside the batch.
        let again = events(0..<50).enumerated().map { consumed(sampleEvent(topic: topic, id: "e\($0.offset)", item: "i\($0.offset % 7)", value: $0.offset), offset: Int64(50 + $0.offset)) }
        let fresh = (100..<110).map { consumed(sampleEvent(topic: topic, id: "e\($0)", item: "x", value: $0), offset: Int64($0)) }
        let dupInBatch = consumed(sampleEvent(topic: topic, id: "e100", item: "x", value: 100), offset: 110)
        let summary = try await conn.run { try processor.process(again + fresh + [dupInBatch], tp: tp, expected: 50, on: $0) }
        #expect(summary.duplicates == 51)
        #expect(summary.applied == 10)
        try await conn.run { conn throws in
            #expect(try conn.count("SELECT sum(updates)::int FROM sample_items") == 60)
            #expect(try conn.count("SELECT count(*) FROM outbox") == 60)
        }
    }

    @Test func aZombieRollsBackEverything() async throws {
        let conn = try await PostgresConnection.connect(try await MigratedDatabase.create())
        _ = try await conn.run { try processor.process(events(0..<10), tp: tp, expected: nil, on: $0) }
        // Another member already advanced the partition past 10; this member still thinks 5.
        await #expect(throws: BatchProcessor.Zombie.self) {
            try await conn.run { try processor.process(events(5..<20), tp: tp, expected: 5, on: $0) }
        }
        try await conn.run { conn throws in
            #expect(try conn.count("SELECT count(*) FROM inbox") == 10)
            #expect(try conn.count("SELECT next_offset::int FROM consumer_offsets") == 10)
        }
        // A member whose first batch finds a row it did not expect is a zombie too.
        await #expect(throws: BatchProcessor.Zombie.self) {
            try await conn.run { try processor.process(events(10..<12), tp: tp, expected: nil, on: $0) }
        }
    }

    /// Several partitions' batches in one transaction: every offset advanced, every event
    /// applied once, a bad one dead-lettered — and a zombie on any of them rolls back all.
    @Test func partitionsAppliedTogetherAdvanceEachOffsetOrNone() async throws {
        let conn = try await PostgresConnection.connect(try await MigratedDatabase.create())
        func part(_ partition: Int32, _ range: Range<Int>, expected: Int64?) -> BatchProcessor.Part {
            let messages = range.map {
                consumed(sampleEvent(topic: topic, id: "p\(partition)-e\($0)", item: "p\(partition)-i\($0 % 5)", value: $0),
                         partition: partition, offset: Int64($0))
            }
            return BatchProcessor.Part(tp: TopicPartition(topic, partition), messages: messages, expected: expected)
        }
        var second = part(2, 0..<30, expected: nil)
        var malformed = second.messages
        malformed[4] = ConsumedMessage(topic: topic, partition: 2, offset: 4, key: nil, value: Array("{not json".utf8),
                                       headers: malformed[4].headers, timestampMillis: 1)
        second = BatchProcessor.Part(tp: second.tp, messages: malformed, expected: nil)
        let parts = [part(0, 0..<20, expected: nil), second]
        let summary = try await conn.run { try processor.process(together: parts, on: $0) }
        #expect(summary.applied == 49 && summary.deadLettered[.invalidJSON] == 1)
        #expect(summary.nextOffsets == [TopicPartition(topic, 0): 20, TopicPartition(topic, 2): 30])
        try await conn.run { conn throws in
            #expect(try conn.count("SELECT count(*) FROM inbox") == 49)
            #expect(try conn.count("SELECT sum(next_offset)::int FROM consumer_offsets") == 50)
        }
        // Partition 0 was taken on by another member meanwhile: partition 2's part rolls back too.
        let later = [part(0, 20..<25, expected: 15), part(2, 30..<35, expected: 30)]
        await #expect(throws: BatchProcessor.Zombie.self) {
            try await conn.run { try processor.process(together: later, on: $0) }
        }
        try await conn.run { conn throws in
            #expect(try conn.count("SELECT count(*) FROM inbox") == 49)
            #expect(try conn.count("SELECT next_offset::int FROM consumer_offsets WHERE partition = 2") == 30)
        }
    }

    @Test func poisonIsDeadLetteredWithReasonsAndTheRestApplied() async throws {
        let conn = try await PostgresConnection.connect(try await MigratedDatabase.create())
        var batch = events(0..<20)
        func bad(_ offset: Int, value: [UInt8]?, headers: [KafkaHeader]) {
            batch[offset] = ConsumedMessage(topic: topic, partition: 0, offset: Int64(offset), key: Array("k".utf8),
                                            value: value, headers: headers, timestampMillis: 1)
        }
        let good = batch[1].headers
        bad(1, value: [0xff, 0xfe, 0x00], headers: good.filter { $0.key != "ce_id" } + [KafkaHeader("ce_id", "b1")])
        bad(3, value: Array("{not json".utf8), headers: good.filter { $0.key != "ce_id" } + [KafkaHeader("ce_id", "b3")])
        bad(5, value: Array("{\"itemId\":\"x\"}".utf8), headers: good.filter { $0.key != "ce_id" } + [KafkaHeader("ce_id", "b5")])
        bad(7, value: batch[7].value, headers: good.filter { $0.key != "ce_type" && $0.key != "ce_id" }
            + [KafkaHeader("ce_type", "sample.unknown"), KafkaHeader("ce_id", "b7")])
        bad(9, value: batch[9].value, headers: good.filter { $0.key != "ce_id" })
        bad(11, value: Array("{\"itemId\":\"x\",\"value\":-5}".utf8), headers: good.filter { $0.key != "ce_id" } + [KafkaHeader("ce_id", "b11")])
        bad(13, value: Array("[1,2]".utf8), headers: good.filter { $0.key != "ce_id" } + [KafkaHeader("ce_id", "b13")])
        let input = batch
        let summary = try await conn.run { try processor.process(input, tp: tp, expected: nil, on: $0) }
        #expect(summary.applied == 13)
        #expect(summary.deadLettered == [.undecodable: 1, .invalidJSON: 2, .schema: 1, .unknownType: 1,
                                         .invalidEnvelope: 1, .validation: 1])
        try await conn.run { conn throws in
            let rows = try conn.query("SELECT \"offset\"::int, error_kind, reason FROM dead_letters ORDER BY 1")
            #expect(try rows.map { try $0.decode(Int.self, at: 0) } == [1, 3, 5, 7, 9, 11, 13])
            let reasons = try rows.map { try $0.decode(String.self, at: 2) }
            #expect(reasons.contains("missing field value"))
            #expect(reasons.contains("missing header ce_id"))
            #expect(reasons.allSatisfy { !$0.contains("{") }, "reasons quote no payload")
            #expect(try conn.count("SELECT count(*) FROM outbox WHERE topic = 'sample.events.v1.dlq'") == 7)
            #expect(try conn.count("SELECT count(*) FROM inbox") == 13)
            let dlqHeaders = HeaderJSON.decode(try conn.query("""
                SELECT headers FROM outbox WHERE topic = 'sample.events.v1.dlq' AND ce_id LIKE '%:3'
                """)[0].decode(PostgresJSON.self, at: 0)) ?? []
            #expect(dlqHeaders.text(KokiHeader.originalTopic) == topic)
            #expect(dlqHeaders.text(KokiHeader.originalOffset) == "3")
            #expect(dlqHeaders.text(KokiHeader.consumerGroup) == "g1")
            #expect(dlqHeaders.text(KokiHeader.errorKind) == "invalid-json")
        }
    }

    @Test func aPermanentStoreErrorIsIsolatedToItsEvent() async throws {
        let conn = try await PostgresConnection.connect(try await MigratedDatabase.create())
        try await conn.run { try $0.executeScript(unsafeSQL: "ALTER TABLE sample_items ADD CONSTRAINT small CHECK (value < 1000)") }
        var batch = events(0..<10, items: 10)
        batch[4] = consumed(sampleEvent(topic: topic, id: "big", item: "big", value: 5000), offset: 4)
        let input = batch
        let summary = try await conn.run { try processor.process(input, tp: tp, expected: nil, on: $0) }
        #expect(summary.applied == 9)
        #expect(summary.deadLettered == [.store: 1])
        try await conn.run { conn throws in
            #expect(try conn.count("SELECT count(*) FROM sample_items") == 9)
            #expect(try conn.count("SELECT count(*) FROM inbox") == 9, "the rejected event's claim taken back")
            let reason = try conn.query("SELECT reason FROM dead_letters")[0].decode(String.self, at: 0)
            #expect(reason.contains("23514") && reason.contains("small"))
            #expect(!reason.contains("5000"))
        }
    }

    struct Flaky: EventHandler {
        let acceptedTypes: Set<String> = ["sample.item-updated"]
        func apply(_ events: [InboundEvent], in tx: PostgresConnection) throws -> [EventOutcome] {
            struct Mystery: Error {}
            throw Mystery()
        }
    }

    @Test func anUnclassifiedErrorIsNotDeadLetteredButRaised() async throws {
        let conn = try await PostgresConnection.connect(try await MigratedDatabase.create())
        let flaky = BatchProcessor(group: "g1", source: "urn:test", handler: Flaky())
        await #expect(throws: BatchProcessor.Unclassified.self) {
            try await conn.run { try flaky.process(events(0..<3), tp: tp, expected: nil, on: $0) }
        }
        #expect(try await conn.run { try $0.count("SELECT count(*) FROM dead_letters") } == 0)
        #expect(try await conn.run { try $0.count("SELECT count(*) FROM consumer_offsets") } == 0)
    }
}
