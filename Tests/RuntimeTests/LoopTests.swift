import Foundation
import Kafka
import Logging
import Postgres
import SampleWorker
import Testing
@testable import WorkerRuntime

@Suite("Worker loop in process")
struct LoopTests {
    struct Mystery: Error {}

    /// Always throws something the runtime cannot classify.
    struct Broken: EventHandler {
        let acceptedTypes: Set<String> = [SampleHandler.eventType]
        func apply(_ events: [InboundEvent], in tx: PostgresConnection) throws -> [EventOutcome] { throw Mystery() }
    }

    /// The sample handler, except that an event of item `poison` throws what nobody can classify.
    struct PoisonedOnce: EventHandler {
        let sample = SampleHandler()
        var acceptedTypes: Set<String> { sample.acceptedTypes }
        func apply(_ events: [InboundEvent], in tx: PostgresConnection) throws -> [EventOutcome] {
            if events.contains(where: { $0.key == "poison" }) { throw Mystery() }
            return try sample.apply(events, in: tx)
        }
    }

    /// A worker loop on a thread of its own against `stack`'s input, logging nowhere; the
    /// caller asks it to stop.
    static func start(_ handler: any EventHandler, group: String, on stack: Stack, startMidStream: Bool = false,
                      maxBatchBytes: Int = 64 << 20, waitLimit: Duration = .seconds(3600)) -> (WorkerLoop, WorkerStatus) {
        let config = WorkerConfig(kafka: stack.cluster.config(properties: ["session.timeout.ms": "4000"]),
                                  databaseURL: stack.databaseURL, groupID: group, maxWait: .milliseconds(20),
                                  retryMax: .milliseconds(20), waitLimit: waitLimit, maxBatchBytes: maxBatchBytes,
                                  startMidStream: startMidStream)
        let status = WorkerStatus()
        let loop = WorkerLoop(config: config, topics: [stack.input], source: "urn:test", handler: handler,
                              metrics: RuntimeMetrics(), status: status,
                              logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }))
        Thread { try? loop.run() }.start()
        return (loop, status)
    }

    /// One connection applies a poll's partitions in one transaction; when that fails, each
    /// partition's batch goes on its own, so one partition's trouble never holds another's up.
    @Test func partitionsAppliedTogetherFallBackToOneByOneWhenTheTransactionFails() async throws {
        let stack = try await Stack(inputPartitions: 2)
        let (loop, status) = Self.start(PoisonedOnce(), group: "poisoned", on: stack)
        defer { loop.requestStop() }
        try await stack.waitUntil(.seconds(30)) { status.notReadyReason == nil }
        var messages = (0..<40).map { n in
            var message = sampleEvent(topic: stack.input, id: "e\(n)", item: n == 20 ? "poison" : "i\(n)", value: n)
            message.partition = n < 20 ? 0 : 1
            return message
        }
        messages.swapAt(0, 20)  // the poison first: both partitions' events arrive in one poll
        try await stack.send(messages)
        let stopped = try await stack.waitUntil(.seconds(30)) {
            status.notReadyReason?.contains("stopped partitions: sample.events.v1[1]") == true
        }
        #expect(stopped, "readiness: \(status.notReadyReason ?? "ready")")
        #expect(try await stack.count("SELECT count(*) FROM inbox WHERE partition = 0") == 20)
        #expect(try await stack.count("SELECT count(*) FROM inbox WHERE partition = 1") == 0)
        #expect(try await stack.count("SELECT next_offset::int FROM consumer_offsets WHERE partition = 0") == 20)
    }

    @Test func aBatchThatKeepsFailingUnclassifiedStopsItsPartitionAndReadinessSaysSo() async throws {
        let stack = try await Stack(inputPartitions: 1)
        let (loop, status) = Self.start(Broken(), group: "broken", on: stack)
        defer { loop.requestStop() }
        try await stack.send(0..<3)
        let stopped = try await stack.waitUntil(.seconds(30)) {
            status.notReadyReason?.contains("stopped partitions: sample.events.v1[0]") == true
        }
        #expect(stopped, "readiness: \(status.notReadyReason ?? "ready")")
        #expect(status.isLive, "the loop keeps running")
        // Nothing skipped, nothing dead-lettered: the events wait for a fix.
        #expect(try await stack.count("SELECT count(*) FROM dead_letters") == 0)
        #expect(try await stack.count("SELECT count(*) FROM consumer_offsets") == 0)
    }

    /// The worker was away; meanwhile retention deleted events it had not read. librdkafka
    /// would move on to the earliest event the broker still has; koki stops the partition.
    @Test func eventsDeletedBeforeTheyWereReadStopThePartitionInsteadOfBeingSkipped() async throws {
        let stack = try await Stack(inputPartitions: 1)
        try await stack.send(0..<3)
        // The mock keeps the last 5 MiB of a partition: 9 MiB more push offset 3 out of it.
        let padding = String(repeating: "x", count: 200_000)
        try await stack.send((3..<48).map { n in
            var message = sampleEvent(topic: stack.input, id: "e\(n)", item: "i\(n)", value: n)
            message.value = Array("{\"itemId\":\"i\(n)\",\"value\":\(n),\"note\":\"\(padding)\"}".utf8)
            return message
        })
        let conn = try await stack.db()
        try await conn.run {
            try $0.execute("INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset) VALUES ('away', \(stack.input), 0, 3)")
        }
        let (loop, status) = Self.start(SampleHandler(), group: "away", on: stack)
        defer { loop.requestStop() }
        let stopped = try await stack.waitUntil(.seconds(30)) {
            status.notReadyReason?.contains("stopped partitions: sample.events.v1[0]") == true
        }
        #expect(stopped, "readiness: \(status.notReadyReason ?? "ready")")
        // Nothing read past the gap: the offset stays where the last applied event left it.
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await stack.count("SELECT next_offset FROM consumer_offsets WHERE consumer_group = 'away'") == 3)
        #expect(try await stack.count("SELECT count(*) FROM inbox") == 0)
        #expect(try await stack.count("SELECT count(*) FROM dead_letters") == 0)
    }

    /// M7: a group that has never read a partition whose first events retention already
    /// deleted (koki deployed after the register's initial snapshot expired) stops it instead of
    /// quietly beginning mid-stream; KOKI_START_MIDSTREAM is the operator's decision to begin there.
    @Test func aFirstStartAfterRetentionDeletedTheHeadStopsUnlessTheOperatorSaysSo() async throws {
        let stack = try await Stack(inputPartitions: 1)
        let padding = String(repeating: "x", count: 200_000)
        try await stack.send((0..<48).map { n in
            var message = sampleEvent(topic: stack.input, id: "e\(n)", item: "i\(n)", value: n)
            message.value = Array("{\"itemId\":\"i\(n)\",\"value\":\(n),\"note\":\"\(padding)\"}".utf8)
            return message
        })
        let (loop, status) = Self.start(SampleHandler(), group: "late", on: stack)
        let stopped = try await stack.waitUntil(.seconds(30)) {
            status.notReadyReason?.contains("stopped partitions: sample.events.v1[0]") == true
        }
        loop.requestStop()
        #expect(stopped, "readiness: \(status.notReadyReason ?? "ready")")
        #expect(try await stack.count("SELECT count(*) FROM inbox") == 0)
        #expect(try await stack.count("SELECT count(*) FROM consumer_offsets") == 0)
        try await Task.sleep(for: .seconds(5))  // the first member leaves the group
        let (decided, _) = Self.start(SampleHandler(), group: "late", on: stack, startMidStream: true)
        defer { decided.requestStop() }
        #expect(try await stack.waitUntil(.seconds(30)) { try await stack.count("SELECT count(*) FROM inbox") > 0 })
        #expect(try await stack.count("SELECT min(\"offset\")::int FROM inbox") > 0, "it began where Kafka's log begins")
    }

    /// Waits for a business day another worker never reaches.
    struct Waiting: EventHandler {
        let acceptedTypes: Set<String> = [SampleHandler.eventType]
        func apply(_ events: [InboundEvent], in tx: PostgresConnection) throws -> [EventOutcome] {
            throw NotYet("the resident worker has not reached 2201-01-01 (it is at 2026-07-01)")
        }
    }

    /// H2: a batch waiting for another worker's day does not wait for ever: after the limit its
    /// partition stops, and /readyz says why.
    @Test func aWaitForAnotherWorkerHasALimit() async throws {
        let stack = try await Stack(inputPartitions: 1)
        let (loop, status) = Self.start(Waiting(), group: "waiting", on: stack, waitLimit: .seconds(2))
        defer { loop.requestStop() }
        try await stack.send(0..<2)
        let stopped = try await stack.waitUntil(.seconds(30)) {
            status.notReadyReason?.contains("stopped partitions: sample.events.v1[0]") == true
        }
        #expect(stopped, "readiness: \(status.notReadyReason ?? "ready")")
        #expect(status.isLive)
        #expect(try await stack.count("SELECT count(*) FROM consumer_offsets") == 0, "nothing skipped")
    }

    /// Derives an event larger than Kafka takes for item `huge`.
    struct Oversized: EventHandler {
        let sample = SampleHandler()
        var acceptedTypes: Set<String> { sample.acceptedTypes }
        func apply(_ events: [InboundEvent], in tx: PostgresConnection) throws -> [EventOutcome] {
            try sample.apply(events, in: tx).enumerated().map { i, outcome in
                guard events[i].key == "huge", case .applied = outcome else { return outcome }
                return .applied([try DerivedEvent(topic: "sample.derived.v1", key: "huge", type: "sample.huge",
                                                  body: ["pad": String(repeating: "x", count: 950_000)])])
            }
        }
    }

    /// H5: an event whose derived event Kafka would refuse for good is dead-lettered when it is
    /// applied, not retried by the relay for ever; the rest of its batch is applied.
    @Test func anEventThatWouldDeriveAnOversizedRowIsDeadLettered() async throws {
        let conn = try await PostgresConnection.connect(try await MigratedDatabase.create())
        let processor = BatchProcessor(group: "g", source: "urn:test", handler: Oversized())
        let tp = TopicPartition("sample.events.v1", 0)
        let batch = ["a", "huge", "b"].enumerated().map { i, item in
            consumed(sampleEvent(topic: tp.topic, id: "e\(i)", item: item, value: i), offset: Int64(i))
        }
        let summary = try await conn.run { try processor.process(batch, tp: tp, expected: nil, on: $0) }
        #expect(summary.applied == 2 && summary.deadLettered == [.validation: 1])
        try await conn.run { conn throws in
            #expect(try conn.count("SELECT count(*) FROM sample_items WHERE item_id = 'huge'") == 0, "nothing of it stays")
            #expect(try conn.query("SELECT reason FROM dead_letters")[0].decode(String.self, at: 0)
                    == "a derived event would be larger than the 900000 bytes Kafka takes")
            #expect(try conn.count("SELECT count(*) FROM outbox WHERE length(payload) > 900000") == 0)
        }
    }

    /// L10: a partition's batch is cut by bytes, whatever its count allows; the rest follows.
    @Test func aBatchIsCutByBytes() async throws {
        let stack = try await Stack(inputPartitions: 1)
        let padding = String(repeating: "x", count: 300_000)
        try await stack.send((0..<12).map { n in
            var message = sampleEvent(topic: stack.input, id: "e\(n)", item: "i\(n)", value: n)
            message.value = Array("{\"itemId\":\"i\(n)\",\"value\":\(n),\"note\":\"\(padding)\"}".utf8)
            return message
        })
        let (loop, _) = Self.start(SampleHandler(), group: "bytes", on: stack, maxBatchBytes: 1 << 20)
        defer { loop.requestStop() }
        #expect(try await stack.waitUntil(.seconds(30)) { try await stack.count("SELECT count(*) FROM inbox") == 12 })
        // Each transaction applied at most three of the 300 kB events (1 MiB), each once.
        let batches = try await stack.db().run { conn in
            try conn.query("SELECT applied_at, count(*)::int FROM inbox GROUP BY applied_at").map { try $0.decode(Int.self, at: 1) }
        }
        #expect(batches.allSatisfy { $0 <= 3 } && batches.reduce(0, +) == 12, "\(batches)")
    }

    /// L4: the inbox is kept for its retention, and a purge removes only what is older, of its group.
    @Test func theInboxPurgeKeepsTheRetentionWindow() async throws {
        let conn = try await PostgresConnection.connect(try await MigratedDatabase.create())
        let processor = BatchProcessor(group: "g", source: "urn:test", handler: SampleHandler())
        let tp = TopicPartition("sample.events.v1", 0)
        let batch = (0..<30).map { consumed(sampleEvent(topic: tp.topic, id: "e\($0)", item: "i\($0)", value: $0), offset: Int64($0)) }
        _ = try await conn.run { try processor.process(batch, tp: tp, expected: nil, on: $0) }
        try await conn.run { conn in
            try conn.execute("UPDATE inbox SET applied_at = now() - interval '31 days' WHERE \"offset\" < 20")
            try conn.execute("INSERT INTO inbox (consumer_group, ce_id, ce_type, topic, partition, \"offset\", ce_source, applied_at) VALUES ('other', 'x', 't', 't', 0, 0, 's', now() - interval '400 days')")
        }
        let purged = try await conn.run { try RuntimeStore.purgeInbox(group: "g", olderThanDays: 30, limit: 7, on: $0) }
        #expect(purged == 20)
        #expect(try await conn.run { try $0.count("SELECT count(*) FROM inbox WHERE consumer_group = 'g'") } == 10)
        #expect(try await conn.run { try $0.count("SELECT count(*) FROM inbox WHERE consumer_group = 'other'") } == 1)
    }

    @Test func discardNeedsAReasonAndIsRecorded() async throws {
        let conn = try await PostgresConnection.connect(try await MigratedDatabase.create())
        let processor = BatchProcessor(group: "g", source: "urn:test", handler: SampleHandler())
        var bad = sampleEvent(topic: "sample.events.v1", id: "x", item: "i", value: 1)
        bad.value = Array("nope".utf8)
        let message = consumed(bad, offset: 0)
        _ = try await conn.run { try processor.process([message], tp: TopicPartition("sample.events.v1", 0), expected: nil, on: $0) }
        let id = try await conn.run { try $0.query("SELECT id FROM dead_letters")[0].decode(Int64.self, at: 0) }
        await #expect(throws: DeadLetterOperations.Refused.self) {
            try await conn.run { try DeadLetterOperations.discard(id, by: "ops", reason: "  ", on: $0) }
        }
        try await conn.run { try DeadLetterOperations.discard(id, by: "ops", reason: "upstream resent a corrected event", on: $0) }
        let detail = try await conn.run { try DeadLetterOperations.show(id, on: $0) }
        #expect(detail.summary.status == "discarded")
        #expect(detail.resolvedBy == "ops")
        #expect(detail.note == "upstream resent a corrected event")
        #expect(detail.summary.errorKind == "invalid-json")
        await #expect(throws: DeadLetterOperations.Refused.self) {
            try await conn.run { try DeadLetterOperations.replay(id, by: "ops", note: nil, opener: nil, on: $0) { _ in } }
        }
    }

    @Test("headers survive their JSON column", arguments: [
        [KafkaHeader("ce_id", "a\"b\\c"), KafkaHeader("n", nil), KafkaHeader("jp", "川口\n\t\u{1}")],
        [KafkaHeader("bin", [0xff, 0x00, 0x80]), KafkaHeader("b64:looking", "b64:AAAA")],
        [],
    ])
    func headerJSONRoundTrips(headers: [KafkaHeader]) throws {
        let json = HeaderJSON.encode(headers)
        #expect(HeaderJSON.decode(json) == headers)
        #expect(try JSONSerialization.jsonObject(with: Data(json.text.utf8)) is [Any])
    }
}
