import KokiBase
import Postgres

/// `koki ledger verify`: proves that every yen received is accounted for — applied to
/// installments and late fees, appropriated, refunded, or held in suspense — per person and
/// in total, and that no receivable is overpaid and no refund paid twice.
public enum LedgerVerify {
    public struct Totals: Sendable, Equatable {
        public var received = 0, applied = 0, appropriated = 0, refunded = 0, refundsPaid = 0, credit = 0, suspense = 0, writtenOff = 0
    }

    public struct Report: Sendable {
        public let totals: Totals
        /// One line per problem, naming the person and the rule broken.
        public let problems: [String]
    }

    public static func run(on conn: PostgresConnection) throws -> Report {
        var problems: [String] = []
        // 1. Each payment's money is wholly placed (or wholly reversed by 口座振替不能).
        for row in try conn.query("""
            SELECT p.atena_no, p.event_id, p.amount,
                   EXISTS (SELECT 1 FROM payments f WHERE f.kind = 'transfer-failed' AND f.payment_id = p.payment_id
                                                      AND f.atena_no = p.atena_no) AS reversed,
                   coalesce((SELECT sum(l.amount) FROM ledger l WHERE l.payment_event = p.event_id
                                                              AND l.entry IN ('payment', 'overpayment', 'suspense')), 0)::bigint
            FROM payments p WHERE p.kind IN ('received', 'pension-deducted')
            """) {
            let (person, event, amount, reversed, placed) = try row.decode(String.self, String.self, Int.self, Bool.self, Int.self)
            let expected = reversed ? 0 : amount
            if placed != expected {
                problems.append("\(person): payment \(event) placed \(placed) yen of \(expected)")
            }
        }
        // 2. Per person: released suspense is what was applied without a payment of its own;
        //    credit never negative; refunds paid at most refunds decided; balances never negative.
        for row in try conn.query("""
            SELECT atena_no,
              coalesce(sum(amount) FILTER (WHERE entry IN ('payment', 'overpayment') AND payment_event IS NULL), 0)::bigint,
              coalesce(sum(amount) FILTER (WHERE entry = 'suspense-release'), 0)::bigint,
              coalesce(sum(amount) FILTER (WHERE entry = 'suspense'), 0)::bigint,
              (coalesce(sum(amount) FILTER (WHERE entry = 'overpayment'), 0)
                 - coalesce(sum(amount) FILTER (WHERE entry IN ('appropriation', 'refund')), 0))::bigint,
              (coalesce(sum(amount) FILTER (WHERE entry IN ('refund', 'refund-interest')), 0)
                 - coalesce(sum(amount) FILTER (WHERE entry IN ('refund-paid', 'refund-lapsed')), 0))::bigint
            FROM ledger GROUP BY atena_no ORDER BY atena_no
            """) {
            let (person, untagged, released, held, credit, unpaid) = try row.decode(String.self, Int.self, Int.self, Int.self, Int.self, Int.self)
            if untagged != released { problems.append("\(person): \(untagged) yen applied without a payment, \(released) released from suspense") }
            if released > held { problems.append("\(person): more released from suspense than held") }
            if credit < 0 { problems.append("\(person): over-payments appropriated or refunded beyond what was over-paid") }
            if unpaid < 0 { problems.append("\(person): refunds paid or lapsed beyond refunds decided (with their interest)") }
        }
        for row in try conn.query("""
            SELECT r.atena_no, r.fiscal_year, r.installment_no, r.kind,
                   coalesce(sum(l.amount) FILTER (WHERE l.entry = 'charge'), 0)
                   - coalesce(sum(l.amount) FILTER (WHERE l.entry IN ('payment', 'appropriation', 'write-off')), 0)
            FROM receivables r LEFT JOIN ledger l ON l.receivable_id = r.id
            GROUP BY r.id HAVING coalesce(sum(l.amount) FILTER (WHERE l.entry = 'charge'), 0)
                   - coalesce(sum(l.amount) FILTER (WHERE l.entry IN ('payment', 'appropriation', 'write-off')), 0) < 0
            """) {
            let (person, year, no, kind, balance) = try row.decode(String.self, Int.self, Int.self, String.self, Int.self)
            problems.append("\(person): \(kind) \(year)/\(no) is overpaid by \(-balance) yen")
        }
        for row in try conn.query("""
            SELECT coalesce(l.atena_no, f.atena_no), coalesce(l.total, 0), coalesce(f.total, 0) FROM
              (SELECT atena_no, sum(amount) AS total FROM ledger WHERE entry = 'refund' GROUP BY atena_no) l
              FULL JOIN (SELECT atena_no, sum(amount) AS total FROM refunds WHERE cancelled_on IS NULL GROUP BY atena_no) f
                USING (atena_no)
            WHERE coalesce(l.total, 0) <> coalesce(f.total, 0)
            """) {
            problems.append("\(try row.decode(String.self, at: 0)): refund entries and refund decisions differ")
        }
        for row in try conn.query("""
            SELECT coalesce(l.atena_no, f.atena_no) FROM
              (SELECT atena_no, sum(amount) AS total FROM ledger WHERE entry = 'refund-interest' GROUP BY atena_no) l
              FULL JOIN (SELECT atena_no, sum(interest) AS total FROM refunds WHERE cancelled_on IS NULL AND interest > 0
                         GROUP BY atena_no) f USING (atena_no)
            WHERE coalesce(l.total, 0) <> coalesce(f.total, 0)
            """) {
            problems.append("\(try row.decode(String.self, at: 0)): 還付加算金 entries and refund decisions differ")
        }
        // Totals: received = applied + appropriated + refunded + open credit + suspense.
        let t = try conn.query("""
            SELECT
              (SELECT coalesce(sum(amount), 0) FROM payments p WHERE kind IN ('received', 'pension-deducted')
                 AND NOT EXISTS (SELECT 1 FROM payments f WHERE f.kind = 'transfer-failed' AND f.payment_id = p.payment_id
                                 AND f.atena_no = p.atena_no))::bigint,
              coalesce(sum(amount) FILTER (WHERE entry = 'payment'), 0)::bigint,
              coalesce(sum(amount) FILTER (WHERE entry = 'appropriation'), 0)::bigint,
              coalesce(sum(amount) FILTER (WHERE entry = 'refund'), 0)::bigint,
              coalesce(sum(amount) FILTER (WHERE entry = 'refund-paid'), 0)::bigint,
              (coalesce(sum(amount) FILTER (WHERE entry = 'overpayment'), 0)
                 - coalesce(sum(amount) FILTER (WHERE entry IN ('appropriation', 'refund')), 0))::bigint,
              (coalesce(sum(amount) FILTER (WHERE entry = 'suspense'), 0)
                 - coalesce(sum(amount) FILTER (WHERE entry = 'suspense-release'), 0))::bigint,
              coalesce(sum(amount) FILTER (WHERE entry = 'write-off'), 0)::bigint
            FROM ledger
            """)[0]
        var totals = Totals()
        (totals.received, totals.applied, totals.appropriated, totals.refunded, totals.refundsPaid, totals.credit,
         totals.suspense, totals.writtenOff) = try t.decode(Int.self, Int.self, Int.self, Int.self, Int.self, Int.self, Int.self, Int.self)
        let placed = totals.applied + totals.appropriated + totals.refunded + totals.credit + totals.suspense
        if placed != totals.received {
            problems.append("total: received \(totals.received) yen, accounted for \(placed)")
        }
        return Report(totals: totals, problems: problems)
    }
}
