import Foundation
import Kafka
import Postgres
import SampleWorker
import Testing
@testable import WorkerRuntime

/// H1 and H3 of the security review: envelope bytes that used to stop a partition, and
/// deduplication by what CloudEvents make unique — against a real PostgreSQL.
@Suite("Hostile envelopes and deduplication")
struct HostileEnvelopeTests {
    let topic = "sample.events.v1"
    let tp = TopicPartition("sample.events.v1", 0)
    let processor = BatchProcessor(group: "g1", source: "urn:koki:test", handler: SampleHandler(), seal: TestDeadLetterKeys.seal)

    func message(_ offset: Int, id: String = "", key: String? = nil, headers extra: [KafkaHeader] = [],
                 source: String = "urn:test", type: String = "sample.item-updated", body: String? = nil) -> ConsumedMessage {
        let id = id.isEmpty ? "e\(offset)" : id
        var headers = [KafkaHeader("ce_specversion", "1.0"), KafkaHeader("ce_type", type), KafkaHeader("ce_source", source),
                       KafkaHeader("content-type", "application/json")]
        if !extra.contains(where: { $0.key == "ce_id" }) { headers.append(KafkaHeader("ce_id", id)) }
        headers += extra
        return ConsumedMessage(topic: topic, partition: 0, offset: Int64(offset), key: key.map { Array($0.utf8) } ?? Array("i\(offset)".utf8),
                               value: Array((body ?? "{\"itemId\":\"i\(offset)\",\"value\":\(offset)}").utf8),
                               headers: headers, timestampMillis: 1_795_000_000_000)
    }

    /// Each of these stopped the partition before: neither the event nor its dead letter could be written.
    @Test func nulBytesLongIdsAndControlCharactersAreDeadLetteredAndTheRestApplied() async throws {
        let conn = try await PostgresConnection.connect(try await MigratedDatabase.create())
        var batch = (0..<12).map { message($0) }
        batch[1] = message(1, headers: [KafkaHeader("x", [0x41, 0x00])], type: "sample.unknown")
        batch[3] = message(3, headers: [KafkaHeader("ce_id", "a\u{0}b")])
        batch[5] = message(5, key: "0000000001\u{0}")
        let longID = Data((0..<3_072).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        batch[7] = message(7, id: longID)
        batch[9] = message(9, source: "urn:test\u{7}")
        batch[10] = message(10, headers: [KafkaHeader("x\u{0}name", "v")])
        // A producer-set timestamp far beyond any date: the letter is written without it.
        let late = message(11, type: "sample.unknown")
        batch[11] = ConsumedMessage(topic: topic, partition: 0, offset: 11, key: late.key, value: late.value, headers: late.headers,
                                    timestampMillis: .max)
        let input = batch
        let summary = try await conn.run { try processor.process(input, tp: tp, expected: nil, on: $0) }
        #expect(summary.applied == 5)
        #expect(summary.deadLettered == [.invalidEnvelope: 6, .unknownType: 1])
        #expect(summary.nextOffsets == [tp: 12], "the partition flows on")
        try await conn.run { conn throws in
            let rows = try conn.query("SELECT \"offset\"::int, reason, message_key, ce_id FROM dead_letters ORDER BY 1")
            #expect(try rows.map { try $0.decode(Int.self, at: 0) } == [1, 3, 5, 7, 9, 10, 11])
            let reasons = try rows.map { try $0.decode(String.self, at: 1) }.prefix(6)
            #expect(reasons == ["a header contains a NUL byte", "a header contains a NUL byte",
                                "the Kafka key contains a control character", "header ce_id is longer than 256 bytes",
                                "header ce_source contains a control character", "a header contains a NUL byte"])
            #expect(try rows[2].decode(String?.self, at: 2) == nil, "a key that text cannot hold is not stored as text")
            #expect(try conn.count("SELECT count(*) FROM dead_letters WHERE headers = '[]'") == 1, "only the letter the store refused is minimal")
            #expect(try rows[3].decode(String?.self, at: 3) == nil, "nor an id over the limit")
            #expect(try conn.count("SELECT count(*) FROM dead_letters WHERE payload IS NOT NULL") == 7, "the bytes are kept, sealed")
            #expect(try conn.count("SELECT count(*) FROM dead_letters WHERE payload_sealed") == 7)
            #expect(try conn.count("SELECT count(*) FROM dead_letters WHERE \"offset\" = 11 AND event_time IS NULL") == 1)
            #expect(try conn.count("SELECT count(*) FROM outbox WHERE topic = 'sample.events.v1.dlq'") == 7)
            #expect(try conn.count("SELECT count(*) FROM inbox") == 5)
        }
    }

    /// Header names come from librdkafka as C strings; one that the dead-letter table still
    /// cannot hold gets a minimal letter instead of stopping the partition.
    @Test func aLetterTheStoreRefusesIsWrittenMinimal() async throws {
        let conn = try await PostgresConnection.connect(try await MigratedDatabase.create())
        let input = [message(0), message(1, headers: [KafkaHeader("bad\u{0}", "v")]), message(2)]
        let summary = try await conn.run { try processor.process(input, tp: tp, expected: nil, on: $0) }
        #expect(summary.applied == 2 && summary.deadLettered == [.invalidEnvelope: 1])
        try await conn.run { conn throws in
            #expect(try conn.count("SELECT count(*) FROM dead_letters WHERE \"offset\" = 1 AND headers = '[]' AND ce_id IS NULL") == 1)
            #expect(try conn.count("SELECT count(*) FROM outbox WHERE topic = 'sample.events.v1.dlq' AND message_key IS NULL") == 1)
        }
    }

    @Test func aTextParameterWithNulIsRefusedNotTruncated() async throws {
        let conn = try await PostgresConnection.connect(try await MigratedDatabase.create())
        try await conn.run { conn throws in
            #expect(throws: PostgresError.self) { try conn.query("SELECT \("a\u{0}b")::text") }
            #expect(throws: PostgresError.self) { try conn.query("SELECT \(["x", "a\u{0}b"])::text[]") }
            #expect(try conn.query("SELECT \("a b")::text")[0].decode(String.self, at: 0) == "a b")
        }
    }

    /// H3: the same ce_id is another event on another topic or from another source; the same
    /// source reusing an id for another body is a conflict, never a silent skip.
    @Test func deduplicationIsBySourceAndIdPerTopicAndAConflictIsDeadLettered() async throws {
        let conn = try await PostgresConnection.connect(try await MigratedDatabase.create())
        let counter = "counter.applications.v1"
        func on(_ other: String, _ m: ConsumedMessage) -> ConsumedMessage {
            ConsumedMessage(topic: other, partition: 0, offset: m.offset, key: m.key, value: m.value, headers: m.headers,
                            timestampMillis: m.timestampMillis)
        }
        let first = [message(0, id: "1", source: "urn:bank-a"), message(1, id: "2", source: "urn:bank-a")]
        _ = try await conn.run { try processor.process(first, tp: tp, expected: nil, on: $0) }
        let second = [
            message(2, id: "1", key: "i0", source: "urn:bank-b", body: #"{"itemId":"i0","value":7}"#),   // another source: applied
            message(3, id: "2", key: "i1", source: "urn:bank-a", body: #"{"itemId":"i1","value":1}"#),   // the same again: duplicate
            message(4, id: "1", key: "i0", source: "urn:bank-a", body: #"{"itemId":"i0","value":99}"#),  // reused id: conflict
        ]
        let summary = try await conn.run { try processor.process(second, tp: tp, expected: 2, on: $0) }
        #expect(summary.applied == 1 && summary.duplicates == 1 && summary.deadLettered == [.conflict: 1])
        // Within one batch too: the second copy of a key with another body is a conflict.
        let twice = [message(5, id: "9", key: "i5", source: "urn:bank-a", body: #"{"itemId":"i5","value":1}"#),
                     message(6, id: "9", key: "i5", source: "urn:bank-a", body: #"{"itemId":"i5","value":1}"#),
                     message(7, id: "9", key: "i5", source: "urn:bank-a", body: #"{"itemId":"i5","value":2}"#)]
        let inBatch = try await conn.run { try processor.process(twice, tp: tp, expected: 5, on: $0) }
        #expect(inBatch.applied == 1 && inBatch.duplicates == 1 && inBatch.deadLettered == [.conflict: 1])
        // The same id and source on another topic the group consumes is another event.
        let otherTopic = [on(counter, message(0, id: "1", source: "urn:bank-a"))]
        let other = try await conn.run {
            try processor.process(otherTopic, tp: TopicPartition(counter, 0), expected: nil, on: $0)
        }
        #expect(other.applied == 1 && other.duplicates == 0)
        try await conn.run { conn throws in
            #expect(try conn.count("SELECT count(*) FROM inbox") == 5)
            let reason = try conn.query("SELECT reason FROM dead_letters WHERE error_kind = 'conflict'")[0].decode(String.self, at: 0)
            #expect(reason == "an event with this ce_source and ce_id was applied before with another body")
            #expect(try conn.count("SELECT count(*) FROM sample_items WHERE value = 99") == 0, "the conflicting body is not applied")
        }
    }

    /// The crash-loop breaker counts processes that began an offset and vanished; work left on
    /// purpose (a handled failure, a revoke, a graceful stop) takes its mark off and counts nothing.
    @Test func theBreakerCountsOnlyWorkLeftByAVanishedProcess() async throws {
        let conn = try await PostgresConnection.connect(try await MigratedDatabase.create())
        try await conn.run { conn throws in
            func mark(_ instance: String, _ first: Int64) throws -> Int {
                try RuntimeStore.markAttempts(group: "g1", instance: instance, [(tp, first, 10)], on: conn)[tp] ?? -1
            }
            #expect(try mark("a", 5) == 0)
            #expect(try mark("a", 5) == 0, "a retry by the same process")
            #expect(try mark("b", 5) == 1, "a vanished without finishing offset 5")
            try RuntimeStore.clearAttempts(group: "g1", instance: "b", partitions: [tp], on: conn)
            #expect(try mark("c", 5) == 1, "b left it on purpose: not counted")
            try RuntimeStore.clearAttempts(group: "g1", instance: "c", partitions: nil, on: conn)
            #expect(try mark("d", 5) == 1)
            #expect(try mark("e", 5) == 2)
            #expect(try mark("e", 6) == 0, "offset 5 was done")
        }
    }
}
