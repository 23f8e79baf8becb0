import Foundation
import Kafka
import KokiBase
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

    /// Records these events as applied by this group, except those it applied before, and
    /// returns the ids recorded now (an id twice in `events` is recorded for its first). One
    /// statement instead of a lookup and an insert: the lookup of a thousand ids was the
    /// runtime's most expensive statement, and its plan depended on the inbox's statistics.
    static func claim(group: String, _ events: [InboundEvent], on conn: PostgresConnection) throws -> Set<String> {
        guard !events.isEmpty else { return [] }
        return Set(try conn.query("""
            INSERT INTO inbox (consumer_group, ce_id, ce_type, topic, partition, "offset")
            SELECT \(group), * FROM unnest(\(events.map(\.id))::text[], \(events.map(\.type))::text[],
                                           \(events.map(\.topic))::text[], \(events.map(\.partition))::int[],
                                           \(events.map(\.offset))::bigint[])
            ON CONFLICT DO NOTHING
            RETURNING ce_id
            """).map { try $0.decode(String.self, at: 0) })
    }

    /// Takes back the claim of events that were dead-lettered instead of applied.
    static func release(group: String, ids: [String], on conn: PostgresConnection) throws {
        guard !ids.isEmpty else { return }
        try conn.execute("DELETE FROM inbox WHERE consumer_group = \(group) AND ce_id = ANY(\(ids)::text[])")
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

    static func deadLetter(_ letters: [DeadLetter], on conn: PostgresConnection) throws {
        guard !letters.isEmpty else { return }
        try conn.execute("""
            INSERT INTO dead_letters (consumer_group, topic, partition, "offset", message_key, ce_id, ce_type,
                                      headers, payload, error_kind, reason, event_time)
            SELECT * FROM unnest(\(letters.map(\.group))::text[], \(letters.map(\.message.topic))::text[],
                                 \(letters.map(\.message.partition))::int[], \(letters.map(\.message.offset))::bigint[],
                                 \(letters.map(\.message.keyText))::text[], \(letters.map { $0.message.headers.text("ce_id") })::text[],
                                 \(letters.map { $0.message.headers.text("ce_type") })::text[],
                                 \(letters.map(\.headersJSON))::jsonb[], \(letters.map { $0.message.value.map { Data($0) } })::bytea[],
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
}

struct DeadLetter: Sendable {
    let group: String
    let message: ConsumedMessage
    let rejection: Rejection

    var headersJSON: PostgresJSON { HeaderJSON.encode(message.headers) }

    var eventTime: Date? {
        message.timestampMillis.map { Date(timeIntervalSince1970: Double($0) / 1000) }
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

    /// UTF-8 that does not start with the `b64:` marker (ASCII without a look at each scalar).
    private static func isText(_ value: [UInt8]) -> Bool {
        guard !value.starts(with: "b64:".utf8) else { return false }
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

    static func decode(_ json: PostgresJSON) -> [KafkaHeader] {
        guard let pairs = JSONSyntax.stringPairs(Array(json.text.utf8)) else { return [] }
        return pairs.map { name, value in
            if let value, value.starts(with: "b64:".utf8),
               let data = Data(base64Encoded: String(decoding: value.dropFirst(4), as: UTF8.self)) {
                return KafkaHeader(name, Array(data))
            }
            return KafkaHeader(name, value)
        }
    }
}
