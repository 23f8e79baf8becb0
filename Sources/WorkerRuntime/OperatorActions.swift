import Foundation
import KokiBase
import Postgres

/// What operators change by hand, each recorded in `operator_actions` in the change's own
/// transaction (who — the database login and the name given —, what, from what to what, why).
public enum OperatorActions {
    public struct Refused: Error, CustomStringConvertible {
        public let description: String
    }

    public struct Position: Sendable {
        public let group: String
        public let topic: String
        public let partition: Int32
        public let nextOffset: Int64
        public let updatedAt: Date
    }

    /// Every partition's position as the workers keep it (the source of truth; Kafka's committed
    /// offsets are a copy for lag tools).
    public static func positions(group: String?, on conn: PostgresConnection) throws -> [Position] {
        try conn.query("""
            SELECT consumer_group, topic, partition, next_offset, updated_at FROM consumer_offsets
            WHERE \(group)::text IS NULL OR consumer_group = \(group) ORDER BY consumer_group, topic, partition
            """).map { row in
            Position(group: try row.decode(at: 0), topic: try row.decode(at: 1), partition: try row.decode(at: 2),
                     nextOffset: try row.decode(at: 3), updatedAt: try row.decode(at: 4))
        }
    }

    /// Moves a partition's position (the next offset its group reads), recorded. Returns the old.
    public static func setPosition(group: String, topic: String, partition: Int32, to offset: Int64, reason: String,
                                   operatorName: String, on conn: PostgresConnection) throws -> Int64 {
        guard offset >= 0 else { throw Refused(description: "an offset is 0 or more") }
        try requireReason(reason)
        return try conn.transaction { tx in
            guard let old = try tx.query("""
                SELECT next_offset FROM consumer_offsets
                WHERE consumer_group = \(group) AND topic = \(topic) AND partition = \(partition) FOR UPDATE
                """).first?.decode(Int64.self, at: 0) else {
                throw Refused(description: "\(group) has no position for \(topic)[\(partition)] (a group that never read it starts "
                                           + "where KOKI_START_MIDSTREAM says)")
            }
            try tx.execute("""
                UPDATE consumer_offsets SET next_offset = \(offset), updated_at = now()
                WHERE consumer_group = \(group) AND topic = \(topic) AND partition = \(partition)
                """)
            try record("offset-set", subject: "\(group) \(topic)[\(partition)]",
                       detail: ["from": .number(Double(old)), "to": .number(Double(offset))], reason: reason,
                       operatorName: operatorName, on: tx)
            return old
        }
    }

    /// Discards a held outbox row (it is never sent), recorded with its topic and type, never its body.
    public static func discardHeld(_ id: Int64, reason: String, operatorName: String, on conn: PostgresConnection) throws {
        try requireReason(reason)
        try conn.transaction { tx in
            guard let row = try tx.query("""
                DELETE FROM outbox WHERE id = \(id) AND held_at IS NOT NULL AND published_at IS NULL
                RETURNING topic, ce_type, held_reason
                """).first else {
                throw Refused(description: "outbox row \(id) is not held")
            }
            let (topic, type, held) = try row.decode(String.self, String.self, String?.self)
            try record("outbox-discard", subject: "outbox \(id)",
                       detail: ["topic": .string(topic), "ceType": .string(type), "heldReason": .string(held ?? "")],
                       reason: reason, operatorName: operatorName, on: tx)
        }
    }

    static func requireReason(_ reason: String) throws {
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw Refused(description: "a reason is required") }
    }

    static func record(_ action: String, subject: String, detail: [String: JSONValue], reason: String, operatorName: String,
                       on tx: PostgresConnection) throws {
        let json = String(decoding: try JSONValue.object(detail).serialized(), as: UTF8.self)
        try tx.execute("""
            INSERT INTO operator_actions (operator, action, subject, detail, reason)
            VALUES (\(operatorName), \(action), \(subject), \(json)::jsonb, \(reason))
            """)
    }
}
