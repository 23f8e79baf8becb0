import Foundation
import Kafka
import KokiSecrets
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
    public static func showPayload(_ id: Int64, by operatorName: String, purpose: String, opener: DeadLetterOpener?,
                                   on conn: PostgresConnection) throws -> Detail {
        guard !purpose.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw Refused(description: "reading a dead letter's body needs a purpose (a case or request reference)")
        }
        return try conn.transaction { tx in
            let shown = try show(id, on: tx)
            let detail = Detail(summary: shown.summary, key: shown.key, headers: shown.headers,
                                payload: try body(id, opener: opener, on: tx), resolvedAt: shown.resolvedAt,
                                resolvedBy: shown.resolvedBy, note: shown.note)
            try tx.execute("""
                INSERT INTO access_log (operator, command, subject, fields, purpose)
                VALUES (\(operatorName), 'dlq show --payload', \("dead_letter:\(id)"), ARRAY['payload'], \(purpose))
                """)
            return detail
        }
    }

    /// A letter's body, opened when it is sealed; nil when it keeps none.
    static func body(_ id: Int64, opener: DeadLetterOpener?, on conn: PostgresConnection) throws -> [UInt8]? {
        guard let row = try conn.query("""
            SELECT payload, payload_sealed, consumer_group, topic, partition, "offset" FROM dead_letters WHERE id = \(id)
            """).first, let stored = try row.decode(Data?.self, at: 0) else { return nil }
        guard try row.decode(Bool.self, at: 1) else { return Array(stored) }  // written before bodies were sealed
        guard let opener else {
            throw Refused(description: "dead letter \(id)'s body is sealed: set KOKI_DLQ_PRIVATE_KEY_FILE (the operators' key)")
        }
        let letter = DeadLetter.letterID(group: try row.decode(String.self, at: 2), topic: try row.decode(String.self, at: 3),
                                         partition: try row.decode(Int32.self, at: 4), offset: try row.decode(Int64.self, at: 5))
        do {
            return try opener.open(stored, letter: letter)
        } catch {
            throw Refused(description: "dead letter \(id)'s body does not open with this key")
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
                      payload: nil,  // the body only through showPayload, opened and logged
                      resolvedAt: try row.decode(Date?.self, at: 14), resolvedBy: try row.decode(String?.self, at: 15),
                      note: try row.decode(String?.self, at: 16))
    }

    /// Re-publishes the dead letter, as received, to its original topic with `publish` — the
    /// operator's own producer, which the ACLs let write the upstream topics the relay may not
    /// (docker/kafka-acls.sh, User:koki-operator) — and records the replay once Kafka has it.
    /// Every group on that topic sees it again; those that applied it skip it as a duplicate
    /// (the same source, id and body).
    public static func replay(_ id: Int64, by operatorName: String, note: String?, opener: DeadLetterOpener?,
                              on conn: PostgresConnection, publish: (OutgoingMessage) throws -> Void) throws {
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
            guard let value = try body(id, opener: opener, on: tx) else {
                throw Refused(description: "dead letter \(id) keeps no body (purged, or written without KOKI_DLQ_PUBLIC_KEY): "
                              + "re-publish the event from its source")
            }
            let message = OutgoingMessage(topic: try row.decode(String.self, at: 0),
                                          key: try row.decode(String?.self, at: 1).map { Array($0.utf8) },
                                          value: value, headers: headers)
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
