import Foundation
import Postgres

/// Who read a person's data, what, why and when (`access_log`, append-only). A read writes its
/// row in its own transaction, before the data is shown: no read without its record.
public enum AccessLog {
    public struct Entry: Sendable, Codable {
        public let accessedAt: String
        public let sessionLogin: String
        public let operatorName: String
        public let command: String
        public let fields: [String]
        public let purpose: String
    }

    public struct MissingPurpose: Error, CustomStringConvertible {
        public var description: String { "reading a person's data needs a purpose (a case, request or counter reference)" }
    }

    /// Records a read of `subject` (`person:<宛名番号>`, `dead_letter:<id>`).
    public static func record(subject: String, command: String, fields: [String], purpose: String, operatorName: String,
                              on conn: PostgresConnection) throws {
        try record(subjects: [subject], command: command, fields: fields, purpose: purpose, operatorName: operatorName, on: conn)
    }

    /// Records one read of each of `subjects` (a list that shows several people is a read of each).
    public static func record(subjects: [String], command: String, fields: [String], purpose: String, operatorName: String,
                              on conn: PostgresConnection) throws {
        guard !purpose.trimmingCharacters(in: .whitespaces).isEmpty else { throw MissingPurpose() }
        guard !subjects.isEmpty else { return }
        try conn.execute("""
            INSERT INTO access_log (operator, command, subject, fields, purpose)
            SELECT \(operatorName), \(command), s, \(fields)::text[], \(purpose) FROM unnest(\(subjects)::text[]) WITH ORDINALITY AS x(s, n)
            ORDER BY n
            """)
    }

    /// The reads of a person's data, oldest first (for their 開示).
    public static func reads(of atenaNo: String, on conn: PostgresConnection) throws -> [Entry] {
        try conn.query("""
            SELECT to_char(accessed_at AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD"T"HH24:MI:SS"+09:00"'), session_login, operator,
                   command, fields, purpose
            FROM access_log WHERE subject = \("person:" + atenaNo) ORDER BY id
            """).map {
            Entry(accessedAt: try $0.decode(at: 0), sessionLogin: try $0.decode(at: 1), operatorName: try $0.decode(at: 2),
                  command: try $0.decode(at: 3), fields: try $0.decode(at: 4), purpose: try $0.decode(at: 5))
        }
    }

    /// The chain recomputed row by row: the first row altered (its hash does not match its
    /// content) or not following the row before it (one removed or inserted). Names rows by id.
    public static func verify(on conn: PostgresConnection) throws -> (rows: Int, problem: String?) {
        let rows = try conn.query("""
            SELECT id, prev_hash, access_hash(prev_hash, a) = hash, lag(id) OVER (ORDER BY id), lag(hash) OVER (ORDER BY id)
            FROM access_log a ORDER BY id
            """)
        for row in rows {
            let (id, prev, intact, previousID, previousHash) = try row.decode(Int64.self, String?.self, Bool.self, Int64?.self, String?.self)
            if prev != previousHash {
                return (rows.count, previousID == nil ? "access log row \(id) does not start the chain"
                                                      : "access log row \(id) does not follow row \(previousID!) (removed or inserted)")
            }
            if !intact { return (rows.count, "access log row \(id) was altered (its hash does not match its content)") }
        }
        return (rows.count, nil)
    }

    /// The first recorded head the log no longer holds, as a problem; nil when every one matches.
    public static func verify(heads: [(id: Int64, hash: String, takenAt: String)], on conn: PostgresConnection) throws -> String? {
        guard !heads.isEmpty else { return nil }
        var found: [Int64: String] = [:]
        for row in try conn.query("SELECT id, hash FROM access_log WHERE id = ANY(\(heads.map(\.id))::bigint[])") {
            found[try row.decode(Int64.self, at: 0)] = try row.decode(String.self, at: 1)
        }
        for head in heads.sorted(by: { $0.id < $1.id }) {
            guard let hash = found[head.id] else { return "access log row \(head.id) of the checkpoint taken \(head.takenAt) is gone" }
            guard hash == head.hash else {
                return "access log row \(head.id) differs from the checkpoint taken \(head.takenAt): the chain was rebuilt"
            }
        }
        return nil
    }
}
