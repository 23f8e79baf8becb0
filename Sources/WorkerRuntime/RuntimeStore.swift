import Foundation
import Kafka
import KokiBase
import KokiSecrets
import Postgres

/// The runtime's SQL: consumer offsets, inbox, outbox and dead letters, in one place.
enum RuntimeStore {
    /// The next offset to read per partition, as the database holds it.
    static func offsets(group: String, partitions: [TopicPartition],
                        on conn: PostgresConnection) throws -> [TopicPartition: Int64] {
        let rows = try conn.query("""
            SELECT topic, partition, next_offset FROM consumer_offsets
            WHERE consumer_group = \(group)
              AND (topic, partition) IN (SELECT * FROM unnest(\(partitions.map(\.topic))::text[],
                                                              \(partitions.map(\.partition))::int[]))
            """)
        var result: [TopicPartition: Int64] = [:]
        for row in rows {
            let (topic, partition, next) = try row.decode(String.self, Int32.self, Int64.self)
            result[TopicPartition(topic, partition)] = next
        }
        return result
    }

    /// Advances a partition's offset from `expected` (nil: no row yet) to `next`. False
    /// means another member moved it first: this one is a zombie and must roll back.
    static func advanceOffset(group: String, _ tp: TopicPartition, expected: Int64?, next: Int64,
                              on conn: PostgresConnection) throws -> Bool {
        if let expected {
            return try conn.execute("""
                UPDATE consumer_offsets SET next_offset = \(next), updated_at = now()
                WHERE consumer_group = \(group) AND topic = \(tp.topic) AND partition = \(tp.partition)
                  AND next_offset = \(expected)
                """) == 1
        }
        return try conn.execute("""
            INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset)
            VALUES (\(group), \(tp.topic), \(tp.partition), \(next))
            ON CONFLICT DO NOTHING
            """) == 1
    }

    /// What identifies an event for deduplication: CloudEvents make `source` + `id` unique,
    /// and koki keeps them per topic.
    struct EventKey: Hashable, Sendable {
        let topic: String
        let source: String
        let id: String

        init(_ event: InboundEvent) {
            topic = event.topic
            source = event.source
            id = event.id
        }

        init(topic: String, source: String, id: String) {
            self.topic = topic
            self.source = source
            self.id = id
        }
    }

    /// Records these events as applied by this group, except those it applied before, and
    /// returns the keys recorded now (a key twice in `events` is recorded for its first), with
    /// the body hash recorded for each key that was not (to tell a duplicate from a conflict).
    /// One statement for the claim instead of a lookup and an insert: the lookup of a thousand
    /// ids was the runtime's most expensive statement.
    static func claim(group: String, _ events: [InboundEvent], hashes: [Data],
                      on conn: PostgresConnection) throws -> (claimed: Set<EventKey>, recorded: [EventKey: Data]) {
        guard !events.isEmpty else { return ([], [:]) }
        let claimed = Set(try conn.query("""
            INSERT INTO inbox (consumer_group, ce_id, ce_type, topic, partition, "offset", ce_source, body_hash)
            SELECT \(group), * FROM unnest(\(events.map(\.id))::text[], \(events.map(\.type))::text[],
                                           \(events.map(\.topic))::text[], \(events.map(\.partition))::int[],
                                           \(events.map(\.offset))::bigint[], \(events.map(\.source))::text[],
                                           \(hashes)::bytea[])
            ON CONFLICT DO NOTHING
            RETURNING topic, ce_source, ce_id
            """).map { row in
            let (topic, source, id) = try row.decode(String.self, String.self, String.self)
            return EventKey(topic: topic, source: source, id: id)
        })
        let others = events.filter { !claimed.contains(EventKey($0)) }
        guard !others.isEmpty else { return (claimed, [:]) }
        var recorded: [EventKey: Data] = [:]
        for row in try conn.query("""
            SELECT i.topic, i.ce_source, i.ce_id, i.body_hash FROM inbox i
            JOIN unnest(\(others.map(\.topic))::text[], \(others.map(\.source))::text[], \(others.map(\.id))::text[])
                 AS o(topic, ce_source, ce_id) USING (topic, ce_source, ce_id)
            WHERE i.consumer_group = \(group) AND i.body_hash IS NOT NULL
            """) {
            let (topic, source, id, hash) = try row.decode(String.self, String.self, String.self, Data.self)
            recorded[EventKey(topic: topic, source: source, id: id)] = hash
        }
        return (claimed, recorded)
    }

    /// Takes back the claim of events that were dead-lettered instead of applied.
    static func release(group: String, _ keys: [EventKey], on conn: PostgresConnection) throws {
        guard !keys.isEmpty else { return }
        try conn.execute("""
            DELETE FROM inbox i USING unnest(\(keys.map(\.topic))::text[], \(keys.map(\.source))::text[],
                                            \(keys.map(\.id))::text[]) AS k(topic, ce_source, ce_id)
            WHERE i.consumer_group = \(group) AND i.topic = k.topic AND i.ce_source = k.ce_source AND i.ce_id = k.ce_id
            """)
    }

    /// The crash-loop breaker's mark, written in a statement of its own before each batch's
    /// transaction: which partitions this instance is about to apply, from which offset, and —
    /// returned — how many earlier instances began the same offset and never finished it.
    static func markAttempts(group: String, instance: String, _ work: [(tp: TopicPartition, first: Int64, events: Int)],
                             on conn: PostgresConnection) throws -> [TopicPartition: Int] {
        guard !work.isEmpty else { return [:] }
        var crashes: [TopicPartition: Int] = [:]
        for row in try conn.query("""
            INSERT INTO batch_attempts AS a (consumer_group, topic, partition, first_offset, events, instance, crashes)
            SELECT \(group), t.topic, t.partition, t.first_offset, t.events, \(instance), 0
            FROM unnest(\(work.map(\.tp.topic))::text[], \(work.map(\.tp.partition))::int[], \(work.map(\.first))::bigint[],
                        \(work.map(\.events))::int[]) AS t(topic, partition, first_offset, events)
            ON CONFLICT (consumer_group, topic, partition) DO UPDATE SET
                crashes = CASE WHEN a.first_offset <> EXCLUDED.first_offset THEN 0
                               WHEN a.instance NOT IN ('', EXCLUDED.instance) THEN a.crashes + 1
                               ELSE a.crashes END,
                first_offset = EXCLUDED.first_offset, events = EXCLUDED.events, instance = EXCLUDED.instance,
                updated_at = now()
            RETURNING topic, partition, crashes
            """) {
            let (topic, partition, count) = try row.decode(String.self, Int32.self, Int.self)
            crashes[TopicPartition(topic, partition)] = count
        }
        return crashes
    }

    /// One outbox row per message, in order; wakes the relays.
    static func enqueue(_ rows: [OutboxRow], on conn: PostgresConnection) throws {
        guard !rows.isEmpty else { return }
        try conn.execute("""
            INSERT INTO outbox (topic, message_key, bucket, ce_id, ce_type, headers, payload)
            SELECT * FROM unnest(\(rows.map(\.topic))::text[], \(rows.map(\.key))::text[],
                                 \(rows.map(\.bucket))::smallint[], \(rows.map(\.ceID))::text[],
                                 \(rows.map(\.ceType))::text[], \(rows.map(\.headersJSON))::json[],
                                 \(rows.map(\.payload))::bytea[])
            """)
        try conn.execute("SELECT pg_notify('koki_outbox', '')")
    }

    /// Deletes this group's inbox rows applied more than `days` ago, `limit` at a time until
    /// none are left or `deadline` passes; returns how many.
    static func purgeInbox(group: String, olderThanDays days: Int, limit: Int = 10_000,
                           until deadline: ContinuousClock.Instant = .now + .seconds(1), on conn: PostgresConnection) throws -> Int {
        var purged = 0
        while true {
            let n = try conn.execute("""
                DELETE FROM inbox WHERE ctid = ANY(ARRAY(
                    SELECT ctid FROM inbox WHERE consumer_group = \(group)
                      AND applied_at < now() - make_interval(days => \(days)) LIMIT \(limit)))
                """)
            purged += n
            if n < limit || ContinuousClock.now >= deadline { return purged }
        }
    }

    /// Drops the bodies of this group's dead letters older than `days` (open or not): the
    /// reference stays, the personal data goes. Returns how many.
    static func purgeDeadLetterBodies(group: String, olderThanDays days: Int, on conn: PostgresConnection) throws -> Int {
        // Through the definer function: the worker roles may not read dead_letters.
        try conn.query("SELECT purge_dead_letter_bodies(\(group), \(days))")[0].decode(Int.self, at: 0)
    }

    /// Takes this instance's marks off `partitions` (all of them when nil): the work was left
    /// on purpose — a handled failure, a revoked partition, a graceful stop — not by a crash,
    /// so the next process to begin it counts nothing.
    static func clearAttempts(group: String, instance: String, partitions: [TopicPartition]?,
                              on conn: PostgresConnection) throws {
        if let partitions {
            guard !partitions.isEmpty else { return }
            try conn.execute("""
                UPDATE batch_attempts a SET instance = '' FROM unnest(\(partitions.map(\.topic))::text[],
                                                                      \(partitions.map(\.partition))::int[]) AS t(topic, partition)
                WHERE a.consumer_group = \(group) AND a.instance = \(instance) AND a.topic = t.topic AND a.partition = t.partition
                """)
        } else {
            try conn.execute("UPDATE batch_attempts SET instance = '' WHERE consumer_group = \(group) AND instance = \(instance)")
        }
    }

    /// Stores the dead letters and enqueues their `.dlq` references in a savepoint of their own;
    /// if the store refuses them (whatever the cause), each is tried alone, and one it still
    /// refuses is stored minimal — where the event was, why it stopped, its bytes — so a letter
    /// can always be written and the partition flows on.
    static func deadLetter(_ letters: [DeadLetter], references: [OutboxRow], on conn: PostgresConnection) throws {
        guard !letters.isEmpty else { return }
        do {
            try conn.savepoint { sp in
                try enqueue(references, on: sp)
                try insert(letters, minimal: false, on: sp)
            }
        } catch let error as PostgresError where !error.isTransient {
            for i in letters.indices {
                do {
                    try conn.savepoint { sp in
                        try enqueue([references[i]], on: sp)
                        try insert([letters[i]], minimal: false, on: sp)
                    }
                } catch let error as PostgresError where !error.isTransient {
                    try conn.savepoint { sp in
                        try enqueue([references[i]], on: sp)
                        try insert([letters[i]], minimal: true, on: sp)
                    }
                }
            }
        }
    }

    private static func insert(_ letters: [DeadLetter], minimal: Bool, on conn: PostgresConnection) throws {
        func text(_ value: String?) -> String? { minimal ? nil : value.flatMap(DeadLetter.storable) }
        try conn.execute("""
            INSERT INTO dead_letters (consumer_group, topic, partition, "offset", message_key, ce_id, ce_type,
                                      headers, payload, payload_sealed, error_kind, reason, event_time)
            SELECT * FROM unnest(\(letters.map(\.group))::text[], \(letters.map(\.message.topic))::text[],
                                 \(letters.map(\.message.partition))::int[], \(letters.map(\.message.offset))::bigint[],
                                 \(letters.map { text($0.message.keyText) })::text[],
                                 \(letters.map { text($0.message.headers.text("ce_id")) })::text[],
                                 \(letters.map { text($0.message.headers.text("ce_type")) })::text[],
                                 \(letters.map { minimal ? PostgresJSON(text: "[]") : $0.headersJSON })::jsonb[],
                                 \(letters.map(\.sealedBody))::bytea[], \(letters.map { $0.sealedBody != nil })::boolean[],
                                 \(letters.map(\.rejection.kind.rawValue))::text[], \(letters.map(\.rejection.reason))::text[],
                                 \(letters.map(\.eventTime))::timestamptz[])
            ON CONFLICT DO NOTHING
            """)
    }
}

/// A row for the outbox table.
struct OutboxRow: Sendable {
    let topic: String
    let key: String?
    let ceID: String
    let ceType: String
    let headers: [KafkaHeader]
    let payload: Data?

    /// Relays own buckets, not rows: one bucket's rows go out in order from one relay.
    var bucket: Int16 { OutboxRow.bucket(of: key) }

    static let bucketCount = 16

    /// FNV-1a over the key's bytes; keyless rows share bucket 0.
    static func bucket(of key: String?) -> Int16 {
        guard let key else { return 0 }
        var hash: UInt32 = 2_166_136_261
        for byte in key.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 16_777_619
        }
        return Int16(hash % UInt32(bucketCount))
    }

    var headersJSON: PostgresJSON { HeaderJSON.encode(headers) }

    /// What a row may weigh (payload, headers and key): below librdkafka's and the broker's
    /// default 1,000,000-byte message limit, with room for the record's own overhead.
    static let maxBytes = 900_000

    /// Kafka would refuse it for good: checked when the row is written, not when it is sent.
    var isOversized: Bool { OutboxRow.bytes(payload: payload?.count ?? 0, key: key, headers: headers) > OutboxRow.maxBytes }

    /// What a message weighs against `maxBytes`: payload, key and headers.
    static func bytes(payload: Int, key: String?, headers: [KafkaHeader]) -> Int {
        payload + (key?.utf8.count ?? 0) + headers.reduce(0) { $0 + $1.key.utf8.count + ($1.value?.count ?? 0) }
    }
}

struct DeadLetter: Sendable {
    let group: String
    let message: ConsumedMessage
    let rejection: Rejection
    /// The body sealed to the operators' key (nil: no key configured, or no body): nothing is
    /// kept in clear.
    var sealedBody: Data? = nil

    init(group: String, message: ConsumedMessage, rejection: Rejection, seal: DeadLetterSeal? = nil) {
        self.group = group
        self.message = message
        self.rejection = rejection
        if let seal, let body = message.value {
            sealedBody = try? seal.seal(body, letter: DeadLetter.letterID(group: group, topic: message.topic,
                                                                          partition: message.partition, offset: message.offset))
        }
    }

    /// What a sealed body is bound to: it opens for this letter only.
    static func letterID(group: String, topic: String, partition: Int32, offset: Int64) -> String {
        "\(group)|\(topic)|\(partition)|\(offset)"
    }

    var headersJSON: PostgresJSON { HeaderJSON.encode(message.headers) }

    /// The Kafka timestamp, which the producer sets: only when it is a time PostgreSQL can hold
    /// (1970 to 9999), never a value that would trap on the way into `timestamptz`.
    var eventTime: Date? {
        guard let millis = message.timestampMillis, (0...253_402_300_799_999).contains(millis) else { return nil }
        return Date(timeIntervalSince1970: Double(millis) / 1000)
    }

    static let referenceType = KokiHeader.deadLetterReference

    /// An envelope value as the dead-letter table and the outbox keep it in a text column: only
    /// when it is short and free of control characters (a refused envelope's key or id may be
    /// neither; its bytes stay in the letter's headers and payload).
    static func storable(_ text: String) -> String? {
        text.utf8.count <= InboundEvent.maxAttributeBytes && InboundEvent.isClean(text) ? text : nil
    }
}

/// Kafka headers stored as a JSON array of `[name, value]` pairs (order and repeats kept;
/// non-UTF-8 values as base64 with a `b64:` prefix).
enum HeaderJSON {
    static func encode(_ headers: [KafkaHeader]) -> PostgresJSON {
        var out: [UInt8] = [UInt8(ascii: "[")]
        out.reserveCapacity(64 * headers.count)
        for (i, header) in headers.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "["))
            appendString(header.key.utf8, to: &out)
            out.append(UInt8(ascii: ","))
            if let value = header.value {
                if isText(value) {
                    appendString(value, to: &out)
                } else {
                    appendString(("b64:" + Data(value).base64EncodedString()).utf8, to: &out)
                }
            } else {
                out += Array("null".utf8)
            }
            out.append(UInt8(ascii: "]"))
        }
        out.append(UInt8(ascii: "]"))
        return PostgresJSON(text: String(decoding: out, as: UTF8.self))
    }

    /// UTF-8 without NUL (jsonb cannot hold `\u0000`) that does not start with the `b64:` marker
    /// (ASCII without a look at each scalar).
    private static func isText(_ value: [UInt8]) -> Bool {
        guard !value.starts(with: "b64:".utf8), !value.contains(0) else { return false }
        return value.allSatisfy { $0 < 0x80 } || String(validating: value, as: UTF8.self) != nil
    }

    /// A JSON string literal of UTF-8 bytes (RFC 8259 escapes; control characters as \u00XX).
    static func appendString(_ text: some Sequence<UInt8>, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text {
            switch byte {
            case UInt8(ascii: "\""): out += [92, UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [92, 92]
            case 0..<0x20:
                out += [92, UInt8(ascii: "u"), 48, 48, lowercaseHexDigits[Int(byte >> 4)], lowercaseHexDigits[Int(byte & 0xF)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// The headers, or nil when the text is not what `encode` writes: a row whose headers cannot
    /// be read is never published without them.
    static func decode(_ json: PostgresJSON) -> [KafkaHeader]? {
        guard let pairs = JSONSyntax.stringPairs(Array(json.text.utf8)) else { return nil }
        return pairs.map { name, value in
            if let value, value.starts(with: "b64:".utf8),
               let data = Data(base64Encoded: String(decoding: value.dropFirst(4), as: UTF8.self)) {
                return KafkaHeader(name, Array(data))
            }
            return KafkaHeader(name, value)
        }
    }
}
