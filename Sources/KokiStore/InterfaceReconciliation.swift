import KokiBase
import Postgres

/// The daily interface reconciliation: for one business day, per inbound topic and source (and the
/// consumer group that read it), how many events were applied and dead-lettered; per destination
/// and event type, how many transfers went out (the audit log); and the money the ledger booked
/// that day, by entry. A worker's day runs from the moment it reached the date to the moment it
/// reached the next one (`business_day_marks`); an event whose batch began before a boundary
/// belongs to the day before.
public enum InterfaceReconciliation {
    public struct Line: Sendable, Encodable, Hashable {
        /// `inbound`, `outbound` or `money`.
        public let direction: String
        /// The topic (inbound), the destination (outbound), the ledger entry (money).
        public let interface: String
        /// `group source` (inbound), the event type (outbound), empty (money).
        public let party: String
        public let received: Int
        public let applied: Int
        public let deadLettered: Int
        /// Yen, where money moves.
        public let amount: Int?
    }

    /// The lines of `date`; nil when no worker reached that day.
    public static func report(_ date: LocalDate, on conn: PostgresConnection) throws -> [Line]? {
        guard try conn.query("SELECT 1 FROM business_day_marks WHERE business_date = \(date)").first != nil else { return nil }
        let windows: SQL = """
            WITH marks AS (
                SELECT worker, business_date, reached_at,
                       lead(reached_at) OVER (PARTITION BY worker ORDER BY business_date) AS next_at
                FROM business_day_marks),
            day AS (SELECT worker, reached_at AS from_at, coalesce(next_at, 'infinity'::timestamptz) AS to_at
                    FROM marks WHERE business_date = \(date)),
            whole AS (SELECT min(from_at) AS from_at, max(to_at) AS to_at FROM day)
            """
        var lines: [Line] = []
        // Inbound: applied (the inbox) and dead-lettered, per topic, group and source.
        for row in try conn.query("""
            \(windows),
            applied AS (
                SELECT i.topic, i.consumer_group AS grp, i.ce_source AS source, count(*) AS n FROM inbox i JOIN day d
                  ON i.consumer_group = 'koki-' || d.worker || '-worker' AND i.applied_at >= d.from_at AND i.applied_at < d.to_at
                GROUP BY 1, 2, 3),
            dead AS (
                SELECT l.topic, l.consumer_group AS grp,
                       coalesce((SELECT h->>1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(l.headers) = 'array'
                                                                              THEN l.headers ELSE '[]'::jsonb END) h
                                 WHERE h->>0 = 'ce_source' LIMIT 1), '') AS source,
                       count(*) AS n
                FROM dead_letters l JOIN day d
                  ON l.consumer_group = 'koki-' || d.worker || '-worker' AND l.dead_lettered_at >= d.from_at
                     AND l.dead_lettered_at < d.to_at
                GROUP BY 1, 2, 3)
            SELECT coalesce(a.topic, x.topic), coalesce(a.grp, x.grp), coalesce(a.source, x.source),
                   coalesce(a.n, 0)::bigint, coalesce(x.n, 0)::bigint
            FROM applied a FULL JOIN dead x ON x.topic = a.topic AND x.grp = a.grp AND x.source = a.source
            ORDER BY 1, 2, 3
            """) {
            let (topic, group, source, applied, dead) = try row.decode(String.self, String.self, String.self, Int.self, Int.self)
            lines.append(Line(direction: "inbound", interface: topic, party: "\(group) \(source)", received: applied + dead,
                              applied: applied, deadLettered: dead, amount: nil))
        }
        // Outbound: transfers logged per destination and type (every transfer is in the audit log).
        for row in try conn.query("""
            \(windows)
            SELECT a.destination, a.event_type, count(*)::bigint FROM audit_log a, whole w
            WHERE a.published_at >= w.from_at AND a.published_at < w.to_at GROUP BY 1, 2 ORDER BY 1, 2
            """) {
            let (destination, type, count) = try row.decode(String.self, String.self, Int.self)
            lines.append(Line(direction: "outbound", interface: destination, party: type, received: count, applied: count,
                              deadLettered: 0, amount: nil))
        }
        // Money: what the ledger booked on the business day, by entry (the 収納 side of 会計's 突合).
        for row in try conn.query("""
            SELECT entry, count(*)::bigint, coalesce(sum(amount), 0)::bigint FROM ledger WHERE booked_on = \(date)
            GROUP BY entry ORDER BY entry
            """) {
            let (entry, count, amount) = try row.decode(String.self, Int.self, Int.self)
            lines.append(Line(direction: "money", interface: entry, party: "", received: count, applied: count, deadLettered: 0,
                              amount: amount))
        }
        return lines
    }

    /// Records the day's lines (the reconciliation ran); a day recorded before is replaced only
    /// by adding what was not there (the first record stands for an auditor).
    public static func record(_ date: LocalDate, _ lines: [Line], on conn: PostgresConnection) throws {
        for line in lines {
            try conn.execute("""
                INSERT INTO interface_reconciliations (business_date, direction, interface, party, received, applied, dead_lettered, amount)
                VALUES (\(date), \(line.direction), \(line.interface), \(line.party), \(line.received), \(line.applied),
                        \(line.deadLettered), \(line.amount))
                ON CONFLICT DO NOTHING
                """)
        }
        if lines.isEmpty {
            try conn.execute("""
                INSERT INTO interface_reconciliations (business_date, direction, interface, party, received, applied, dead_lettered)
                VALUES (\(date), 'money', '(none)', '', 0, 0, 0) ON CONFLICT DO NOTHING
                """)
        }
    }
}
