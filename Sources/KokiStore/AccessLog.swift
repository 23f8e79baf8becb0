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
        guard !purpose.trimmingCharacters(in: .whitespaces).isEmpty else { throw MissingPurpose() }
        try conn.execute("""
            INSERT INTO access_log (operator, command, subject, fields, purpose)
            VALUES (\(operatorName), \(command), \(subject), \(fields)::text[], \(purpose))
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
}
