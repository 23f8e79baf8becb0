import Foundation
import Postgres

/// What operators do with held outbox rows (`koki outbox`): look at them, and release them —
/// the relay then decides each again (the transfer policy may hold it again) and sends it. A
/// row Kafka refused is released together with the rows of its key held behind it, in order.
public enum OutboxOperations {
    public struct Held: Sendable {
        public let id: Int64
        public let topic: String
        public let ceType: String
        public let heldAt: Date
        public let reason: String
        /// Kafka refused it, or it waits behind a refused row of its key.
        public let blocksKey: Bool
    }

    public struct Refused: Error, CustomStringConvertible {
        public let description: String
    }

    public static func held(limit: Int, on conn: PostgresConnection) throws -> [Held] {
        try conn.query("""
            SELECT id, topic, ce_type, held_at, held_reason, blocks_key FROM outbox
            WHERE held_at IS NOT NULL AND published_at IS NULL ORDER BY id LIMIT \(limit)
            """).map { row in
            Held(id: try row.decode(Int64.self, at: 0), topic: try row.decode(String.self, at: 1),
                 ceType: try row.decode(String.self, at: 2), heldAt: try row.decode(Date.self, at: 3),
                 reason: try row.decode(String?.self, at: 4) ?? "", blocksKey: try row.decode(Bool.self, at: 5))
        }
    }

    /// Releases a held row; for a row that blocks its key, also the rows of that key held behind
    /// it — recorded in `operator_actions` (who, why, how many) in the same transaction. Returns
    /// how many rows were released.
    @discardableResult
    public static func release(_ id: Int64, reason: String, operatorName: String, on conn: PostgresConnection) throws -> Int {
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw Refused(description: "a reason is required") }
        return try conn.transaction { tx in
            guard let row = try tx.query("""
                SELECT topic, message_key, blocks_key FROM outbox
                WHERE id = \(id) AND held_at IS NOT NULL AND published_at IS NULL FOR UPDATE
                """).first else {
                throw Refused(description: "outbox row \(id) is not held")
            }
            let (topic, key, blocks) = try row.decode(String.self, String?.self, Bool.self)
            let released: Int
            if blocks, let key {
                released = try tx.execute("""
                    UPDATE outbox SET held_at = NULL, held_reason = NULL, blocks_key = false
                    WHERE topic = \(topic) AND message_key = \(key) AND blocks_key AND published_at IS NULL AND id >= \(id)
                    """)
            } else {
                released = try tx.execute("""
                    UPDATE outbox SET held_at = NULL, held_reason = NULL, blocks_key = false WHERE id = \(id)
                    """)
            }
            try OperatorActions.record("outbox-release", subject: "outbox \(id)",
                                       detail: ["topic": .string(topic), "released": .number(Double(released))],
                                       reason: reason, operatorName: operatorName, on: tx)
            return released
        }
    }
}
