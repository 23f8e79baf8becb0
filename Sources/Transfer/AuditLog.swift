import KokiBase
import Postgres

/// The transfer log's checks and review (seed III-5): the hash chain recomputed row by row,
/// and counts per destination, event type and legal basis.
public enum AuditLog {
    /// The first problem found, or nil when the chain is whole. Names rows by `seq` only.
    public static func verify(on conn: PostgresConnection) throws -> (rows: Int, problem: String?) {
        let rows = try conn.query("""
            SELECT seq, prev_hash, hash, audit_hash(prev_hash, a) = hash,
                   lag(seq) OVER (ORDER BY seq), lag(hash) OVER (ORDER BY seq)
            FROM audit_log a ORDER BY seq
            """)
        var expectedSeq: Int64 = 1
        for row in rows {
            let (seq, prev, _, intact, previousSeq, previousHash) = try row.decode(Int64.self, String?.self, String.self, Bool.self,
                                                                                    Int64?.self, String?.self)
            if seq != expectedSeq {
                return (rows.count, seq > expectedSeq ? "row \(expectedSeq) is missing (the next row is \(seq))"
                                                      : "row \(seq) is out of sequence")
            }
            if prev != previousHash {
                return (rows.count, previousSeq == nil ? "row \(seq) does not start the chain"
                                                       : "row \(seq) does not follow row \(previousSeq!) (inserted or replaced)")
            }
            if !intact { return (rows.count, "row \(seq) was altered (its hash does not match its content)") }
            expectedSeq = seq + 1
        }
        // Rows removed from the end leave a valid chain: every transfer still in the outbox
        // must have its row.
        let unaudited = try conn.query("""
            SELECT count(*) FROM outbox o WHERE o.topic LIKE 'transfer.%' AND o.published_at IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.event_id = o.ce_id)
            """)[0].decode(Int.self, at: 0)
        if unaudited > 0 { return (rows.count, "\(unaudited) published transfer(s) have no audit row") }
        return (rows.count, nil)
    }

    public struct Line: Sendable {
        public let eventType: String
        public let legalBasis: String
        public let count: Int
    }

    /// What went to `destination` between two dates (inclusive, days in Asia/Tokyo).
    public static func report(destination: String, from: LocalDate, to: LocalDate, on conn: PostgresConnection) throws -> [Line] {
        try conn.query("""
            SELECT event_type, legal_basis, count(*)::int FROM audit_log
            WHERE destination = \(destination)
              AND (published_at AT TIME ZONE 'Asia/Tokyo')::date BETWEEN \(from) AND \(to)
            GROUP BY event_type, legal_basis ORDER BY event_type
            """).map { Line(eventType: try $0.decode(at: 0), legalBasis: try $0.decode(at: 1), count: try $0.decode(at: 2)) }
    }
}
