import Foundation
import Kafka
import Postgres

/// What operators do with dead letters (`koki dlq`): look, replay after a fix, or
/// discard with a reason. Replay and discard are recorded on the row.
public enum DeadLetterOperations {
    public struct Summary: Sendable {
        public let id: Int64
        public let group: String
        public let topic: String
        public let partition: Int32
        public let offset: Int64
        public let ceID: String?
        public let ceType: String?
        public let errorKind: String
        public let reason: String
        public let deadLetteredAt: Date
        public let status: String
    }

    public struct Detail: Sendable {
        public let summary: Summary
        public let key: String?
        public let headers: [KafkaHeader]
        public let payload: [UInt8]?
        public let resolvedAt: Date?
        public let resolvedBy: String?
        public let note: String?
    }

    public struct Refused: Error, CustomStringConvertible {
        public let description: String
    }

    static let columns = """
        id, consumer_group, topic, partition, "offset", ce_id, ce_type, error_kind, reason, dead_lettered_at, status
        """

    static func summary(_ row: PostgresRow) throws -> Summary {
        Summary(id: try row.decode(Int64.self, at: 0), group: try row.decode(String.self, at: 1),
                topic: try row.decode(String.self, at: 2), partition: try row.decode(Int32.self, at: 3),
                offset: try row.decode(Int64.self, at: 4), ceID: try row.decode(String?.self, at: 5),
                ceType: try row.decode(String?.self, at: 6), errorKind: try row.decode(String.self, at: 7),
                reason: try row.decode(String.self, at: 8), deadLetteredAt: try row.decode(Date.self, at: 9),
                status: try row.decode(String.self, at: 10))
    }

    public static func list(includeResolved: Bool, limit: Int, on conn: PostgresConnection) throws -> [Summary] {
        try conn.query("""
            SELECT \(SQL(unsafeSQL: columns)) FROM dead_letters
            WHERE \(includeResolved) OR status = 'open'
            ORDER BY id LIMIT \(limit)
            """).map(summary)
    }

    /// The letter with its body, after writing who reads it and why to `access_log` (in the same
    /// transaction: no read without its record).
    public static func showPayload(_ id: Int64, by operatorName: String, purpose: String,
                                   on conn: PostgresConnection) throws -> Detail {
        guard !purpose.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw Refused(description: "reading a dead letter's body needs a purpose (a case or request reference)")
        }
        return try conn.transaction { tx in
            let detail = try show(id, on: tx)
            try tx.execute("""
                INSERT INTO access_log (operator, command, subject, fields, purpose)
                VALUES (\(operatorName), 'dlq show --payload', \("dead_letter:\(id)"), ARRAY['payload'], \(purpose))
                """)
            return detail
        }
    }

    public static func show(_ id: Int64, on conn: PostgresConnection) throws -> Detail {
        guard let row = try conn.query("""
            SELECT \(SQL(unsafeSQL: columns)), message_key, headers, payload, resolved_at, resolved_by, resolution_note
            FROM dead_letters WHERE id = \(id)
            """).first else {
            throw Refused(description: "no dead letter \(id)")
        }
        return Detail(summary: try summary(row), key: try row.decode(String?.self, at: 11),
                      headers: HeaderJSON.decode(try row.decode(PostgresJSON.self, at: 12)) ?? [],
                      payload: try row.decode(Data?.self, at: 13).map { Array($0) },
                      resolvedAt: try row.decode(Date?.self, at: 14), resolvedBy: try row.decode(String?.self, at: 15),
                      note: try row.decode(String?.self, at: 16))
    }

    /// Re-publishes the dead letter, as received, to its original topic with `publish` — the
    /// operator's own producer, which the ACLs let write the upstream topics the relay may not
    /// (docker/kafka-acls.sh, User:koki-operator) — and records the replay once Kafka has it.
    /// Every group on that topic sees it again; those that applied it skip it as a duplicate
    /// (the same source, id and body).
    public static func replay(_ id: Int64, by operatorName: String, note: String?, on conn: PostgresConnection,
                              publish: (OutgoingMessage) throws -> Void) throws {
        try conn.transaction { tx in
            guard let row = try tx.query("""
                SELECT topic, message_key, headers, payload, status FROM dead_letters WHERE id = \(id) FOR UPDATE
                """).first else {
                throw Refused(description: "no dead letter \(id)")
            }
            let status = try row.decode(String.self, at: 4)
            guard status == "open" else { throw Refused(description: "dead letter \(id) is already \(status)") }
            guard let headers = HeaderJSON.decode(try row.decode(PostgresJSON.self, at: 2)) else {
                throw Refused(description: "dead letter \(id)'s headers cannot be read: it cannot be replayed")
            }
            let message = OutgoingMessage(topic: try row.decode(String.self, at: 0),
                                          key: try row.decode(String?.self, at: 1).map { Array($0.utf8) },
                                          value: try row.decode(Data?.self, at: 3).map { Array($0) }, headers: headers)
            try publish(message)
            try resolve(id, status: "replayed", by: operatorName, note: note, on: tx)
        }
    }

    public static func discard(_ id: Int64, by operatorName: String, reason: String, on conn: PostgresConnection) throws {
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw Refused(description: "a discard needs a reason")
        }
        try conn.transaction { tx in
            guard let status = try tx.query("SELECT status FROM dead_letters WHERE id = \(id) FOR UPDATE").first?
                .decode(String.self, at: 0) else {
                throw Refused(description: "no dead letter \(id)")
            }
            guard status == "open" else { throw Refused(description: "dead letter \(id) is already \(status)") }
            try resolve(id, status: "discarded", by: operatorName, note: reason, on: tx)
        }
    }

    /// Closes a letter and drops its body: replayed, the event is on its topic again; discarded,
    /// nobody needs it — either way koki keeps no copy of what it may not use.
    private static func resolve(_ id: Int64, status: String, by operatorName: String, note: String?,
                                on tx: PostgresConnection) throws {
        try tx.execute("""
            UPDATE dead_letters SET status = \(status), resolved_at = now(), resolved_by = \(operatorName),
                   resolution_note = \(note), payload = NULL
            WHERE id = \(id)
            """)
    }
}
