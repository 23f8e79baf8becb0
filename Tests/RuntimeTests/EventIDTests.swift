import Foundation
import Kafka
import Postgres
import SampleWorker
import Testing
@testable import WorkerRuntime

@Suite("Event ids")
struct EventIDTests {
    @Test func derivedEventIdsAreNameBasedUUIDsInLowercase() throws {
        let names = (0..<2000).map { ["koki-derived", "g", "t", "urn:s", "e\($0 / 3)", String($0 % 3)] }
        let ids = names.map { TraceContext.uuid(named: $0) }
        #expect(Set(ids).count == ids.count)
        #expect(names.map { TraceContext.uuid(named: $0) } == ids, "the same name, the same id")
        // Length-prefixed parts: moving a boundary between parts is another name.
        #expect(TraceContext.uuid(named: ["ab", "c"]) != TraceContext.uuid(named: ["a", "bc"]))
        for id in ids {
            let uuid = try #require(UUID(uuidString: id), "\(id) is not a UUID")
            #expect(uuid.uuidString.lowercased() == id)
            let bytes = withUnsafeBytes(of: uuid.uuid) { Array($0) }
            #expect(bytes[6] >> 4 == 8, "version 8 (name-based, SHA-256)")
            #expect(bytes[8] >> 6 == 0b10, "RFC 9562 variant")
        }
    }

    /// M6: a batch applied, the database rolled back to before it (a restore), the batch applied
    /// again: the derived events carry the same ids, so a consumer that dedupes by `ce_id`
    /// applies each once.
    @Test func aReplayAfterARestoreDerivesTheSameIds() async throws {
        let processor = BatchProcessor(group: "g1", source: "urn:koki:test", handler: SampleHandler())
        let tp = TopicPartition("sample.events.v1", 0)
        let batch = (0..<20).map { consumed(sampleEvent(topic: tp.topic, id: "e\($0)", item: "i\($0 % 5)", value: $0), offset: Int64($0)) }
        func derivedIDs() async throws -> [String] {
            let conn = try await PostgresConnection.connect(try await MigratedDatabase.create())
            _ = try await conn.run { try processor.process(batch, tp: tp, expected: nil, on: $0) }
            return try await conn.run { conn in
                try conn.query("SELECT ce_id FROM outbox ORDER BY id").map { try $0.decode(String.self, at: 0) }
            }
        }
        let first = try await derivedIDs()
        #expect(first.count == 20)
        #expect(try await derivedIDs() == first)
    }

    @Test func aDerivedEventContinuesItsCausesTraceWithANewSpan() throws {
        let parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        let children = (0..<200).map { _ in TraceContext.child(of: parent) }
        #expect(Set(children).count == children.count, "a new span each time")
        for child in children {
            let parts = child.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
            #expect(parts.count == 4 && parts[0] == "00" && parts[1] == "0af7651916cd43dd8448eb211c80319c" && parts[3] == "01", "\(child)")
            #expect(parts[2].count == 16 && parts[2] != "b7ad6b7169203331" && parts[2].allSatisfy(\.isHexDigit))
        }
        #expect(TraceContext.child(of: "00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-00").hasSuffix("-00"), "flags kept")
    }

    @Test("a cause without a usable traceparent starts a trace", arguments: [
        nil, "", "garbage", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331", "00-0af7651916cd43dd8448eb211c80319g-b7ad6b7169203331-01",
        "00_0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01x",
    ])
    func startsATrace(parent: String?) {
        let child = TraceContext.child(of: parent)
        let parts = child.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        #expect(parts.map(\.count) == [2, 32, 16, 2], "\(child)")
        #expect(parts[0] == "00" && parts[3] == "01")
        #expect(child.utf8.allSatisfy { $0 == UInt8(ascii: "-") || ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) })
        #expect(!child.contains("0af7651916cd43dd8448eb211c80319c"))
    }

    /// Logs carry the trace id of a valid `traceparent` only, and an event id only when it cannot
    /// be personal data (the sender's text: a name, a 12-digit run, anything unusual is left out).
    @Test func logsCarryOnlyWellFormedIdsAndTraces() {
        #expect(TraceContext.traceID(of: "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01") == "0af7651916cd43dd8448eb211c80319c")
        for bad in [nil, "", "00-00000000000000000000000000000000-b7ad6b7169203331-01",
                    "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331", "00-0af7651916cd43dd8448eb211c8031 c-b7ad6b7169203331-01",
                    "00_0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"] as [String?] {
            #expect(TraceContext.traceID(of: bad) == nil, "\(bad ?? "nil")")
        }
        for good in ["fd-p", "business-day:2026-07-01", "9f1c0e2a-1b2c-4d5e-8f9a-a2345678901b", "resident:0000000301", "a_b.c"] {
            #expect(TraceContext.loggableID(good) == good)
        }
        // A UUID whose last group is all digits (about 1 in 300) is left out too; the offset names the event.
        for bad in ["", "123456789018", "mn-123456789018-x", "9f1c0e2a-1b2c-4d5e-8f90-123456789012",
                    "1234-5678-9018", "mn:1234.5678.9018", "1234_5678_9018", "x-1234-5678-9018-y", "試験 花子", "シケン", "a b", "a\nb", String(repeating: "a", count: 129)] {
            #expect(TraceContext.loggableID(bad) == nil, "\(bad)")
        }
        let fields = TraceContext.logFields([KafkaHeader("ce_id", "試験"), KafkaHeader("traceparent", "garbage")])
        #expect(fields.isEmpty)
    }
}
