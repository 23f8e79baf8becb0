import Crypto
import Foundation
import Kafka
import KokiSecrets
import KokiBase
import Postgres

/// Applies one partition's batch — or several partitions' of one topic — in one transaction:
/// the offsets advanced by compare-and-set, dedupe against the inbox, the handler's changes,
/// outbox rows for what it derives, and dead letters for what it cannot apply. Runs on the
/// caller's thread with the connection it is given (inside `PostgresConnection.sync`).
struct BatchProcessor: Sendable {
    let group: String
    let source: String
    let handler: any EventHandler
    /// Seals dead letters' bodies to the operators' key (nil: letters keep no body).
    var seal: DeadLetterSeal? = nil

    struct Summary: Sendable, Equatable {
        var applied = 0
        var duplicates = 0
        /// Events dead-lettered, by kind (from `letters`).
        var deadLettered: [Rejection.Kind: Int] { letters.reduce(into: [:]) { $0[$1.kind, default: 0] += 1 } }
        /// Each event dead-lettered: where it was and its kind, for the log.
        var letters: [Letter] = []

        struct Letter: Sendable, Equatable {
            let offset: Int64
            let kind: Rejection.Kind
            let headers: [KafkaHeader]
        }
        var derived = 0
        /// Each partition's next offset after the batch.
        var nextOffsets: [TopicPartition: Int64] = [:]
    }

    /// One partition's part of a batch: its messages in offset order, all at or after
    /// `expected` (the database's next offset; nil when it has none yet).
    struct Part: Sendable {
        let tp: TopicPartition
        let messages: [ConsumedMessage]
        let expected: Int64?
    }

    /// The other member owns the partition now: roll back and re-read the offset.
    struct Zombie: Error {}

    /// A derived event too large for Kafka: the batch is applied again event by event.
    struct OversizedDerived: Error, CustomStringConvertible {
        var description: String { "a derived event is larger than Kafka takes" }
    }

    /// An earlier process died applying these partitions' batches: apply each on its own.
    struct EarlierCrash: Error, CustomStringConvertible {
        var description: String { "an earlier process died applying these batches" }
    }

    /// An error the runtime cannot classify, raised while isolating one event.
    struct Unclassified: Error, CustomStringConvertible {
        let type: String
        var description: String { "the handler threw \(type), which is neither transient nor a rejection" }
    }

    /// `messages` are one partition's, in offset order, all at or after `expected` (the
    /// database's next offset; nil when it has none yet).
    /// `refuse` dead-letters the messages at those offsets without applying them (the crash-loop
    /// breaker's verdict).
    func process(_ messages: [ConsumedMessage], tp: TopicPartition, expected: Int64?, refuse: [Int64: Rejection] = [:],
                 on conn: PostgresConnection) throws -> Summary {
        precondition(!messages.isEmpty)
        let parts = [Part(tp: tp, messages: messages, expected: expected)]
        do {
            return try conn.transaction { tx in
                try apply(parts, isolating: false, refuse: refuse, on: tx)
            }
        } catch let error as PostgresError where error.isTransient {
            throw error
        } catch let error as NotYet {
            throw error
        } catch is Zombie {
            throw Zombie()
        } catch {
            // The handler threw something that is not transient: find the event at fault.
            return try conn.transaction { tx in
                try apply(parts, isolating: true, refuse: refuse, on: tx)
            }
        }
    }

    /// Several partitions' parts (of one topic; their keys differ) in one transaction, which
    /// costs a handler's fixed work once instead of once per partition. Nothing is isolated
    /// here: whatever fails, the caller applies each part on its own with `process`.
    func process(together parts: [Part], on conn: PostgresConnection) throws -> Summary {
        precondition(!parts.isEmpty && parts.allSatisfy { !$0.messages.isEmpty })
        return try conn.transaction { tx in try apply(parts, isolating: false, on: tx) }
    }

    private func apply(_ parts: [Part], isolating: Bool, refuse: [Int64: Rejection] = [:],
                       on tx: PostgresConnection) throws -> Summary {
        var summary = Summary()
        // First: the offset rows, which also serialize any zombie working on these partitions
        // (in partition order, as every member takes them).
        for part in parts.sorted(by: { $0.tp < $1.tp }) {
            let next = part.messages.last!.offset + 1
            guard try RuntimeStore.advanceOffset(group: group, part.tp, expected: part.expected, next: next, on: tx) else {
                throw Zombie()
            }
            summary.nextOffsets[part.tp] = next
        }
        let messages = parts.count == 1 ? parts[0].messages : parts.flatMap(\.messages)

        // The batch's events by position: `events[i]` came from `messages[sources[i]]` (indices,
        // not copies: copying messages and events was a tenth of the worker thread's time).
        var letters: [DeadLetter] = []
        var events: [InboundEvent] = []
        var sources: [Int] = []
        events.reserveCapacity(messages.count)
        for (index, message) in messages.enumerated() {
            do throws(Rejection) {
                if let verdict = refuse[message.offset], parts.count == 1 { throw verdict }
                let event = try InboundEvent(message)
                guard handler.acceptedTypes.contains(event.type) else {
                    throw Rejection(.unknownType, "ce_type is not one \(group) handles")
                }
                events.append(event)
                sources.append(index)
            } catch {
                letters.append(DeadLetter(group: group, message: message, rejection: error, seal: seal))
            }
        }

        // Claimed in the inbox before they are applied: what the handler rejects is released below.
        // An event claimed before is a duplicate when its body is the same, and a conflict (a
        // dead letter, never a silent skip) when the same source reused the id for another body.
        let hashes = events.map { Data(SHA256.hash(data: $0.data)) }
        let (claimed, recorded) = try RuntimeStore.claim(group: group, events, hashes: hashes, on: tx)
        var fresh: [Int] = []
        var firstInBatch: [RuntimeStore.EventKey: Data] = [:]
        var conflicts: [Int] = []
        for i in events.indices {
            let key = RuntimeStore.EventKey(events[i])
            if claimed.contains(key) && firstInBatch[key] == nil {
                firstInBatch[key] = hashes[i]
                fresh.append(i)
            } else if let hash = firstInBatch[key] ?? recorded[key], hash != hashes[i] {
                conflicts.append(i)
            } else {
                summary.duplicates += 1
            }
        }
        for i in conflicts {
            letters.append(DeadLetter(group: group, message: messages[sources[i]], rejection: Rejection(
                .conflict, "an event with this ce_source and ce_id was applied before with another body"), seal: seal))
        }

        var outbox: [OutboxRow] = []
        var released: [RuntimeStore.EventKey] = []
        let time = Timestamp.now()  // the batch's: its derived events happen in one transaction
        func reject(_ i: Int, _ rejection: Rejection) {
            letters.append(DeadLetter(group: group, message: messages[sources[i]], rejection: rejection, seal: seal))
            released.append(RuntimeStore.EventKey(events[i]))
        }
        if isolating {
            for i in fresh {
                let event = events[i]
                do {
                    let rows = try tx.savepoint { sp -> [OutboxRow] in
                        let outcome = try handler.apply([event], in: sp).first ?? .rejected(
                            Rejection(.validation, "the handler returned no outcome"))
                        // A rejection must leave nothing behind, whatever the handler wrote.
                        if case .rejected(let rejection) = outcome { throw rejection }
                        guard case .applied(let derived) = outcome else { return [] }
                        let rows = derived.enumerated().map { row(for: $1, ordinal: $0, cause: event, time: time) }
                        if rows.contains(where: \.isOversized) {
                            throw Rejection(.validation, "a derived event would be larger than the \(OutboxRow.maxBytes) bytes Kafka takes")
                        }
                        return rows
                    }
                    outbox += rows
                } catch let rejection as Rejection {
                    reject(i, rejection)
                } catch let error as PostgresError where !error.isTransient {
                    reject(i, Rejection(.store, error.description))
                } catch let error as PostgresError {
                    throw error
                } catch {
                    throw Unclassified(type: String(describing: Swift.type(of: error)))
                }
            }
        } else if !fresh.isEmpty {
            let outcomes = try handler.apply(fresh.map { events[$0] }, in: tx)
            guard outcomes.count == fresh.count else {
                throw Unclassified(type: "an outcome count of \(outcomes.count) for \(fresh.count) events")
            }
            for (i, outcome) in zip(fresh, outcomes) {
                switch outcome {
                case .applied(let derived):
                    let rows = derived.enumerated().map { row(for: $1, ordinal: $0, cause: events[i], time: time) }
                    // Kafka would refuse it for good: find the event at fault, alone, and dead-letter it.
                    if rows.contains(where: \.isOversized) { throw OversizedDerived() }
                    outbox += rows
                case .rejected(let rejection): reject(i, rejection)
                }
            }
        }

        try RuntimeStore.release(group: group, released, on: tx)
        let derivedCount = outbox.count
        try RuntimeStore.enqueue(outbox, on: tx)
        try RuntimeStore.deadLetter(letters, references: letters.map(deadLetterRow), on: tx)

        summary.applied = fresh.count - released.count
        summary.derived = derivedCount
        summary.letters = letters.map {
            Summary.Letter(offset: $0.message.offset, kind: $0.rejection.kind, headers: $0.message.headers)
        }
        return summary
    }

    /// A derived event's outbox row: an id named by the group, the cause and the event's place
    /// among the cause's derived events (the same on a replay), the CloudEvents headers
    /// (`ce_time` the batch's), the cause's id and its trace continued.
    func row(for event: DerivedEvent, ordinal: Int, cause: InboundEvent, time: String) -> OutboxRow {
        let id = TraceContext.uuid(named: ["koki-derived", group, cause.topic, cause.source, cause.id, String(ordinal)])
        let headers = [
            KafkaHeader("ce_specversion", "1.0"),
            KafkaHeader("ce_id", id),
            KafkaHeader("ce_type", event.type),
            KafkaHeader("ce_source", source),
            KafkaHeader("ce_time", time),
            KafkaHeader("content-type", "application/json"),
            KafkaHeader("traceparent", TraceContext.child(of: cause.traceparent)),
            KafkaHeader(KokiHeader.causationID, cause.id),
        ]
        return OutboxRow(topic: event.topic, key: event.key, ceID: id, ceType: event.type, headers: headers,
                         payload: Data(event.data))
    }

    /// The dead letter's notice on `<topic>.dlq`: a reference — where the event was (topic,
    /// partition, offset), its `ce_id` and `ce_type` when they are plain text, the group and
    /// why it stopped — and never its key, headers or body, which may carry a name, an address
    /// or a 個人番号 in clear and stay in `dead_letters` only. Its id is one per (group, topic,
    /// partition, offset), so a retried batch cannot enqueue it twice.
    func deadLetterRow(_ letter: DeadLetter) -> OutboxRow {
        let m = letter.message
        let id = "dlq:\(group):\(m.topic):\(m.partition):\(m.offset)"
        let ceID = m.headers.text("ce_id").flatMap(DeadLetter.storable)
        let ceType = m.headers.text("ce_type").flatMap(DeadLetter.storable)
        var reference: [(String, JSONValue)] = [
            ("topic", .string(m.topic)), ("partition", .number(Double(m.partition))), ("offset", .number(Double(m.offset))),
            ("consumerGroup", .string(group)), ("errorKind", .string(letter.rejection.kind.rawValue)),
            ("reason", .string(letter.rejection.reason)),
        ]
        if let ceID { reference.append(("ceId", .string(ceID))) }
        if let ceType { reference.append(("ceType", .string(ceType))) }
        let body = (try? JSONValue.object(Dictionary(uniqueKeysWithValues: reference)).serialized()) ?? Array("{}".utf8)
        let headers = [
            KafkaHeader("ce_specversion", "1.0"),
            KafkaHeader("ce_id", id),
            KafkaHeader("ce_type", DeadLetter.referenceType),
            KafkaHeader("ce_source", source),
            KafkaHeader("content-type", "application/json"),
            KafkaHeader(KokiHeader.originalTopic, m.topic),
            KafkaHeader(KokiHeader.originalPartition, String(m.partition)),
            KafkaHeader(KokiHeader.originalOffset, String(m.offset)),
            KafkaHeader(KokiHeader.originalTimestamp, m.timestampMillis.map(String.init) ?? ""),
            KafkaHeader(KokiHeader.consumerGroup, group),
            KafkaHeader(KokiHeader.errorKind, letter.rejection.kind.rawValue),
            KafkaHeader(KokiHeader.errorReason, letter.rejection.reason),
        ]
        return OutboxRow(topic: m.topic + ".dlq", key: nil, ceID: id, ceType: DeadLetter.referenceType, headers: headers,
                         payload: Data(body))
    }
}
