import KokiBase
import Postgres

/// The transfer log's checks and review (seed III-5): the hash chain recomputed row by row,
/// and counts per destination, event type and legal basis.
public enum AuditLog {
    /// A published head of the chain: row `seq` had hash `hash` when it was taken. Kept outside
    /// the database (a file the 情報システム管理者 keeps, the `koki.audit-checkpoints` topic), it
    /// shows a chain rebuilt after it — rows removed or rewritten and every later hash recomputed —
    /// which the chain alone cannot.
    public struct Checkpoint: Sendable, Codable, Equatable {
        public let seq: Int64
        public let hash: String
        public let takenAt: String
        /// The access log's head at the same time (absent in checkpoints taken before it was chained).
        public var accessID: Int64?
        public var accessHash: String?
        /// The first row with a MAC at the time (absent before the relay had a MAC key): from it
        /// on, every row must keep its MAC — the MACs cannot be dropped wholesale unnoticed.
        public var macFrom: Int64?

        public init(seq: Int64, hash: String, takenAt: String, accessID: Int64? = nil, accessHash: String? = nil,
                    macFrom: Int64? = nil) {
            self.seq = seq
            self.hash = hash
            self.takenAt = takenAt
            self.accessID = accessID
            self.accessHash = accessHash
            self.macFrom = macFrom
        }
    }

    /// The heads now, of the transfer log and the access log (nil while the transfer log is empty).
    /// Read through `audit_heads()`, which the scheduler may call without reading either log.
    public static func checkpoint(on conn: PostgresConnection) throws -> Checkpoint? {
        let row = try conn.query("SELECT seq, hash, access_id, access_hash, taken_at, mac_from FROM audit_heads()")[0]
        guard let seq = try row.decode(Int64?.self, at: 0), let hash = try row.decode(String?.self, at: 1) else { return nil }
        return Checkpoint(seq: seq, hash: hash, takenAt: try row.decode(at: 4), accessID: try row.decode(at: 2),
                          accessHash: try row.decode(at: 3), macFrom: try row.decode(at: 5))
    }

    /// The first checkpoint the log no longer matches, as a problem; nil when every one does.
    public static func verify(_ checkpoints: [Checkpoint], on conn: PostgresConnection) throws -> String? {
        guard !checkpoints.isEmpty else { return nil }
        var found: [Int64: String] = [:]
        for row in try conn.query("SELECT seq, hash FROM audit_log WHERE seq = ANY(\(checkpoints.map(\.seq))::bigint[])") {
            found[try row.decode(Int64.self, at: 0)] = try row.decode(String.self, at: 1)
        }
        for c in checkpoints.sorted(by: { $0.seq < $1.seq }) {
            guard let hash = found[c.seq] else { return "row \(c.seq) of the checkpoint taken \(c.takenAt) is gone" }
            guard hash == c.hash else { return "row \(c.seq) differs from the checkpoint taken \(c.takenAt): the chain was rebuilt" }
        }
        return nil
    }

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
            SELECT count(*) FROM outbox o
            WHERE (o.topic LIKE 'transfer.%' OR o.topic IN (SELECT topic FROM transfer_destinations)) AND o.published_at IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.event_id = o.ce_id)
            """)[0].decode(Int.self, at: 0)
        if unaudited > 0 { return (rows.count, "\(unaudited) published transfer(s) have no audit row") }
        return (rows.count, nil)
    }

    /// The rows' MACs checked with the key (`mac(seq, hash)`): from the first row that has one —
    /// or from `anchoredFrom`, where a checkpoint kept outside the database says they started,
    /// if that is earlier — every row must have its own, matching; a MAC whose row is gone is a
    /// removed row. Names rows by `seq` only.
    /// `macs` gives a row's MAC under each key held (a key of an earlier year still checks its rows).
    public static func verifyMacs(on conn: PostgresConnection, anchoredFrom: Int64? = nil,
                                  macs: (Int64, String) -> [String]) throws -> (checked: Int, problem: String?) {
        var checked = 0
        var started = false
        for row in try conn.query("""
            SELECT a.seq, a.hash, m.mac FROM audit_log a LEFT JOIN audit_macs m ON m.seq = a.seq ORDER BY a.seq
            """) {
            let (seq, hash, stored) = try row.decode(Int64.self, String.self, String?.self)
            guard let stored else {
                if started { return (checked, "row \(seq) has no MAC (appended without the relay's key, or its MAC removed)") }
                if let anchoredFrom, seq >= anchoredFrom {
                    return (checked, "row \(seq) has no MAC, though a checkpoint records MACs from row \(anchoredFrom) (MACs removed)")
                }
                continue
            }
            started = true
            guard macs(seq, hash).contains(stored) else {
                return (checked, "row \(seq)'s MAC does not match its hash: rewritten without the key")
            }
            checked += 1
        }
        let orphans = try conn.query("""
            SELECT min(m.seq), count(*) FROM audit_macs m WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.seq = m.seq)
            """)[0]
        if let first = try orphans.decode(Int64?.self, at: 0) {
            return (checked, "row \(first) is gone but its MAC remains (\(try orphans.decode(Int.self, at: 1)) such rows)")
        }
        return (checked, nil)
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
