import Foundation
import KokiBase
import KokiDomain
import Postgres

/// SQL for 収納: payments as received, receivables, the append-only ledger, refunds and the
/// collection settings.
public struct LedgerStore {
    let tx: PostgresConnection

    public init(_ tx: PostgresConnection) { self.tx = tx }

    /// Serializes the payment worker's business days with all its other ledger writes: a
    /// business day touches everyone (`everyone`: the lock alone); a batch of payments touches
    /// only its payers, whose payments all arrive on its partition, so such batches share it
    /// (they queued behind each other on one lock: half of a two-connection run waited there).
    public func lock(everyone: Bool) throws {
        if everyone {
            _ = try tx.query("SELECT pg_advisory_xact_lock(\(0x6B6F_6B69 + 2), 0)")
        } else {
            _ = try tx.query("SELECT pg_advisory_xact_lock_shared(\(0x6B6F_6B69 + 2), 0)")
        }
    }

    public struct Payment: Sendable {
        public let eventID, paymentID, kind, atenaNo, channel: String
        public let fiscalYear, installmentNo: Int?
        public let amount: Int
        public let paidOn: LocalDate
        public let creditedOn: LocalDate?

        public init(eventID: String, paymentID: String, kind: String, atenaNo: String, channel: String, fiscalYear: Int?,
                    installmentNo: Int?, amount: Int, paidOn: LocalDate, creditedOn: LocalDate?) {
            (self.eventID, self.paymentID, self.kind, self.atenaNo, self.channel) = (eventID, paymentID, kind, atenaNo, channel)
            (self.fiscalYear, self.installmentNo, self.amount, self.paidOn, self.creditedOn) =
                (fiscalYear, installmentNo, amount, paidOn, creditedOn)
        }
    }

    public func insert(_ payments: [Payment]) throws {
        guard !payments.isEmpty else { return }
        let p = payments
        try tx.execute("""
            INSERT INTO payments (event_id, payment_id, kind, atena_no, fiscal_year, installment_no, amount, paid_on, credited_on, channel)
            SELECT * FROM unnest(\(p.map(\.eventID))::text[], \(p.map(\.paymentID))::text[], \(p.map(\.kind))::text[],
                                 \(p.map(\.atenaNo))::text[], \(p.map(\.fiscalYear))::int[], \(p.map(\.installmentNo))::int[],
                                 \(p.map(\.amount))::bigint[], \(p.map(\.paidOn))::date[], \(p.map(\.creditedOn))::date[],
                                 \(p.map(\.channel))::text[])
            """)
    }

    /// The settings in force on `day`.
    public struct Settings: Sendable {
        public let dunningDaysAfterDue, dunningDeadlineDays, dunningFee, reminderDaysAfterDunning: Int
        /// How long a コンビニ速報 holds 督促 and 催告 without its 確報.
        public let cvsHoldDays: Int
        public let lateFees: LateFee.Schedule
        public let refundInterest: RefundInterest.Schedule
    }

    public func settings(on day: LocalDate) throws -> Settings {
        let row = try tx.query("""
            SELECT dunning_days_after_due, dunning_deadline_days, dunning_fee, reminder_days_after_dunning,
                   late_fee_first_tier_months, cvs_hold_days
            FROM collection_settings WHERE effective_from <= \(day) ORDER BY effective_from DESC LIMIT 1
            """).first
        let years = try tx.query("SELECT year, first_tier_percent::text, later_percent::text FROM late_fee_rates ORDER BY year").map {
            LateFee.YearRates(year: try $0.decode(at: 0), firstTier: Rate(percent: try $0.decode(String.self, at: 1))!,
                              later: Rate(percent: try $0.decode(String.self, at: 2))!)
        }
        let schedule = LateFee.Schedule(years: years, firstTierMonths: try row?.decode(Int.self, at: 4) ?? 1)
        var interest: [Int: Rate] = [:]
        for rate in try tx.query("SELECT year, percent::text FROM refund_interest_rates") {
            interest[try rate.decode(Int.self, at: 0)] = Rate(percent: try rate.decode(String.self, at: 1))
        }
        return Settings(dunningDaysAfterDue: try row?.decode(Int.self, at: 0) ?? 20,
                        dunningDeadlineDays: try row?.decode(Int.self, at: 1) ?? 10,
                        dunningFee: try row?.decode(Int.self, at: 2) ?? 0,
                        reminderDaysAfterDunning: try row?.decode(Int.self, at: 3) ?? 30,
                        cvsHoldDays: try row?.decode(Int.self, at: 5) ?? 14, lateFees: schedule,
                        refundInterest: RefundInterest.Schedule(years: interest))
    }

    /// A receivable with its open balance and its 督促 / 催告 state.
    public struct Receivable: Sendable {
        public var open: Allocation.Open
        public let atenaNo: String
        public let charged: Int
        public let dunnedOn: LocalDate?
        public let reminders: Int

        public init(open: Allocation.Open, atenaNo: String, charged: Int, dunnedOn: LocalDate?, reminders: Int) {
            self.open = open
            self.atenaNo = atenaNo
            self.charged = charged
            self.dunnedOn = dunnedOn
            self.reminders = reminders
        }
    }

    /// The rows of a per-person table for these people, found key by key (`KeyedLookup`: a
    /// month's ledger is not analyzed before its payments are in), or all of it (nil).
    func rows(of table: String, as alias: String, for people: [String]?) -> SQL {
        people.map { KeyedLookup.rows(of: table, where: "atena_no", in: $0, as: alias) } ?? "\(identifier: table) AS \(identifier: alias)"
    }

    /// Receivables of these people (nil: everyone), with their balances.
    public func receivables(of people: [String]?) throws -> [Receivable] {
        // The people's ledger rows in one pass (by person), summed per receivable.
        try tx.query("""
            WITH b AS (
                SELECT l.receivable_id,
                       coalesce(sum(l.amount) FILTER (WHERE l.entry = 'charge'), 0)::bigint AS charged,
                       coalesce(sum(l.amount) FILTER (WHERE l.entry IN ('payment', 'appropriation', 'write-off')), 0)::bigint AS settled,
                       min(l.on_date) FILTER (WHERE l.entry = 'dunning') AS dunned,
                       count(*) FILTER (WHERE l.entry = 'reminder')::int AS reminders
                FROM \(rows(of: "ledger", as: "l", for: people)) WHERE l.receivable_id IS NOT NULL GROUP BY l.receivable_id)
            SELECT r.id, r.atena_no, r.fiscal_year, r.installment_no, r.method, r.kind, r.due_date,
                   coalesce(b.charged, 0), coalesce(b.settled, 0), b.dunned, coalesce(b.reminders, 0)
            FROM \(rows(of: "receivables", as: "r", for: people)) LEFT JOIN b ON b.receivable_id = r.id
            ORDER BY r.atena_no, r.due_date, r.id
            """).map { row in
            let charged = try row.decode(Int.self, at: 7), settled = try row.decode(Int.self, at: 8)
            return Receivable(open: Allocation.Open(id: try row.decode(at: 0), fiscalYear: try row.decode(at: 2),
                                                    installmentNo: try row.decode(at: 3),
                                                    method: Installments.Method(rawValue: try row.decode(at: 4)) ?? .ordinary,
                                                    kind: Allocation.Kind(rawValue: try row.decode(at: 5)) ?? .premium,
                                                    dueDate: try row.decode(at: 6), balance: charged - settled),
                              atenaNo: try row.decode(at: 1), charged: charged, dunnedOn: try row.decode(at: 9),
                              reminders: try row.decode(at: 10))
        }
    }

    /// Creates receivables (or finds them) and returns their ids.
    public func receivableIDs(_ keys: [(atenaNo: String, fiscalYear: Int, method: String, installmentNo: Int, kind: String,
                                        dueDate: LocalDate)]) throws -> [Int] {
        guard !keys.isEmpty else { return [] }
        try tx.execute("""
            INSERT INTO receivables (atena_no, fiscal_year, method, installment_no, kind, due_date)
            SELECT * FROM unnest(\(keys.map(\.atenaNo))::text[], \(keys.map(\.fiscalYear))::int[], \(keys.map(\.method))::text[],
                                 \(keys.map(\.installmentNo))::int[], \(keys.map(\.kind))::text[], \(keys.map(\.dueDate))::date[])
            ON CONFLICT DO NOTHING
            """)
        var ids: [String: Int] = [:]
        for row in try tx.query("""
            SELECT r.id, r.atena_no || '/' || r.fiscal_year || '/' || r.method || '/' || r.installment_no || '/' || r.kind
            FROM receivables r JOIN unnest(\(keys.map(\.atenaNo))::text[], \(keys.map(\.fiscalYear))::int[],
                                           \(keys.map(\.method))::text[], \(keys.map(\.installmentNo))::int[],
                                           \(keys.map(\.kind))::text[]) AS k(a, f, m, n, c)
              ON r.atena_no = k.a AND r.fiscal_year = k.f AND r.method = k.m AND r.installment_no = k.n AND r.kind = k.c
            """) {
            ids[try row.decode(String.self, at: 1)] = try row.decode(Int.self, at: 0)
        }
        return try keys.map { key in
            guard let id = ids["\(key.atenaNo)/\(key.fiscalYear)/\(key.method)/\(key.installmentNo)/\(key.kind)"] else {
                throw PostgresError(.decode, "a receivable was not created")
            }
            return id
        }
    }

    public struct Entry: Sendable {
        public let atenaNo: String
        public let receivableID: Int?
        public let entry: String
        public let amount: Int
        public let onDate: LocalDate
        public let bookedOn: LocalDate?
        public let paymentEvent: String?
        public let eventID: String

        public init(atenaNo: String, receivableID: Int?, entry: String, amount: Int, onDate: LocalDate, bookedOn: LocalDate?,
                    paymentEvent: String?, eventID: String) {
            (self.atenaNo, self.receivableID, self.entry, self.amount) = (atenaNo, receivableID, entry, amount)
            (self.onDate, self.bookedOn, self.paymentEvent, self.eventID) = (onDate, bookedOn, paymentEvent, eventID)
        }
    }

    public func append(_ entries: [Entry]) throws {
        guard !entries.isEmpty else { return }
        let e = entries
        // Each row's receivable is checked by its foreign key: one plan for all of them.
        try tx.withCachedPlans {
            try tx.execute("""
                INSERT INTO ledger (atena_no, receivable_id, entry, amount, on_date, booked_on, payment_event, event_id)
                SELECT * FROM unnest(\(e.map(\.atenaNo))::text[], \(e.map(\.receivableID))::bigint[], \(e.map(\.entry))::text[],
                                     \(e.map(\.amount))::bigint[], \(e.map(\.onDate))::date[], \(e.map(\.bookedOn))::date[],
                                     \(e.map(\.paymentEvent))::text[], \(e.map(\.eventID))::text[])
                """)
        }
    }

    /// Current 期割 plans not yet turned into charges (for these people, or everyone).
    public func unsyncedPlans(of people: [String]?) throws -> [(atenaNo: String, fiscalYear: Int, revision: Int,
                                                               installments: [Installments.Installment])] {
        var plans: [String: (String, Int, Int, [Installments.Installment])] = [:]
        for row in try tx.query("""
            SELECT p.atena_no, p.fiscal_year, p.revision, i.method, i.installment_no, i.due_date, i.amount
            FROM \(rows(of: "installment_plans", as: "p", for: people))
            LEFT JOIN charge_sync s ON s.atena_no = p.atena_no AND s.fiscal_year = p.fiscal_year
            LEFT JOIN installments i ON i.atena_no = p.atena_no AND i.fiscal_year = p.fiscal_year AND i.revision = p.revision
            WHERE p.current AND (s.revision IS NULL OR s.revision < p.revision)
            ORDER BY p.atena_no, p.fiscal_year, i.due_date
            """) {
            let atenaNo: String = try row.decode(at: 0), year: Int = try row.decode(at: 1), revision: Int = try row.decode(at: 2)
            var plan = plans["\(atenaNo)/\(year)"] ?? (atenaNo, year, revision, [])
            if let method = try row.decode(String?.self, at: 3).flatMap(Installments.Method.init(rawValue:)) {
                plan.3.append(Installments.Installment(no: try row.decode(at: 4), dueDate: try row.decode(at: 5),
                                                       amount: try row.decode(at: 6), method: method))
            }
            plans["\(atenaNo)/\(year)"] = plan
        }
        return plans.values.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map { ($0.0, $0.1, $0.2, $0.3) }
    }

    public func markSynced(_ plans: [(atenaNo: String, fiscalYear: Int, revision: Int)]) throws {
        guard !plans.isEmpty else { return }
        try tx.execute("""
            INSERT INTO charge_sync (atena_no, fiscal_year, revision)
            SELECT * FROM unnest(\(plans.map(\.atenaNo))::text[], \(plans.map(\.fiscalYear))::int[], \(plans.map(\.revision))::int[])
            ON CONFLICT (atena_no, fiscal_year) DO UPDATE SET revision = EXCLUDED.revision
            """)
    }

    /// Each person's unallocated credit (over-payments not yet appropriated or refunded),
    /// money held in suspense, and refunds decided but not paid.
    public func credits(of people: [String]?) throws -> [String: (credit: Int, suspense: Int, unpaidRefunds: Int)] {
        var result: [String: (Int, Int, Int)] = [:]
        for row in try tx.query("""
            SELECT l.atena_no,
                   coalesce(sum(l.amount) FILTER (WHERE l.entry = 'overpayment'), 0)
                   - coalesce(sum(l.amount) FILTER (WHERE l.entry IN ('appropriation', 'refund')), 0),
                   coalesce(sum(l.amount) FILTER (WHERE l.entry = 'suspense'), 0)
                   - coalesce(sum(l.amount) FILTER (WHERE l.entry = 'suspense-release'), 0),
                   coalesce(sum(l.amount) FILTER (WHERE l.entry IN ('refund', 'refund-interest')), 0)
                   - coalesce(sum(l.amount) FILTER (WHERE l.entry IN ('refund-paid', 'refund-lapsed')), 0)
            FROM \(rows(of: "ledger", as: "l", for: people))
            WHERE l.entry IN ('overpayment', 'appropriation', 'refund', 'refund-paid', 'suspense', 'suspense-release',
                              'refund-interest', 'refund-lapsed')
            GROUP BY l.atena_no
            """) {
            result[try row.decode(String.self, at: 0)] = (try row.decode(Int.self, at: 1), try row.decode(Int.self, at: 2),
                                                          try row.decode(Int.self, at: 3))
        }
        return result
    }

    /// Payments and appropriations into one receivable, by the day they were made.
    /// The latest 承認 of a receivable on or before `day` (民法152条): a payment into it that no
    /// 口座振替不能 undid, or the start of a 分納誓約 (installment-pledge marker) covering it.
    public func acknowledged(receivable: Int, by day: LocalDate) throws -> LocalDate? {
        try tx.query("""
            SELECT greatest(
                (SELECT max(l.on_date) FROM ledger l
                 WHERE l.receivable_id = \(receivable) AND l.entry = 'payment' AND l.amount > 0 AND l.on_date <= \(day)
                   AND l.payment_event IS NOT NULL AND (NOT EXISTS (
                        SELECT 1 FROM ledger x WHERE x.receivable_id = l.receivable_id AND x.payment_event = l.payment_event
                          AND x.entry = 'payment' AND x.amount < 0))),
                (SELECT max(m.from_date) FROM receivables r JOIN collection_markers m ON m.atena_no = r.atena_no
                 WHERE r.id = \(receivable) AND m.marker = 'installment-pledge' AND m.from_date <= \(day)
                   AND (m.fiscal_year IS NULL OR m.fiscal_year = r.fiscal_year)
                   AND (m.installment_no IS NULL OR m.installment_no = r.installment_no)))
            """).first.flatMap { try $0.decode(LocalDate?.self, at: 0) }
    }

    /// A late fee that cannot be computed yet (a year without a rate): kept until it can.
    public func holdLateFee(receivable: Int, paidOn: LocalDate, missingYear: Int) throws {
        try tx.execute("""
            INSERT INTO late_fee_pending (receivable_id, paid_on, missing_year) VALUES (\(receivable), \(paidOn), \(missingYear))
            ON CONFLICT (receivable_id) DO UPDATE SET missing_year = EXCLUDED.missing_year
            """)
    }

    public func releaseLateFee(receivable: Int) throws {
        try tx.execute("DELETE FROM late_fee_pending WHERE receivable_id = \(receivable)")
    }

    /// Late fees waiting for a rate, oldest first.
    public func heldLateFees() throws -> [(receivable: Int, paidOn: LocalDate)] {
        try tx.query("SELECT receivable_id, paid_on FROM late_fee_pending ORDER BY receivable_id").map {
            (try $0.decode(Int.self, at: 0), try $0.decode(LocalDate.self, at: 1))
        }
    }

    public func settlements(of receivable: Int) throws -> [(date: LocalDate, amount: Int)] {
        try tx.query("""
            SELECT on_date, amount FROM ledger WHERE receivable_id = \(receivable) AND entry IN ('payment', 'appropriation')
            """).map { (try $0.decode(LocalDate.self, at: 0), try $0.decode(Int.self, at: 1)) }
    }

    /// The ledger entries a payment made (to reverse them on 口座振替不能).
    /// What a payment moved: its own entries, and the 充当 and 還付 its over-payment funded (those
    /// carry the payment as their event, not as their payment).
    public func entries(ofPayment eventID: String) throws -> [(receivableID: Int?, entry: String, amount: Int)] {
        try tx.query("""
            SELECT receivable_id, entry, sum(amount)::bigint FROM ledger
            WHERE payment_event = \(eventID)
               OR (event_id = \(eventID) AND entry IN ('appropriation', 'refund', 'refund-interest') AND payment_event IS NULL)
            GROUP BY receivable_id, entry
            """).map { (try $0.decode(Int?.self, at: 0), try $0.decode(String.self, at: 1), try $0.decode(Int.self, at: 2)) }
    }

    /// The received payment a 口座振替不能 refers to.
    public func receivedPayment(paymentID: String, atenaNo: String) throws -> String? {
        try tx.query("""
            SELECT event_id FROM payments WHERE payment_id = \(paymentID) AND atena_no = \(atenaNo) AND kind = 'received'
            ORDER BY recorded_at LIMIT 1
            """).first.map { try $0.decode(String.self, at: 0) }
    }

    /// Per (paymentId, 宛名番号, amount): received payments not yet undone by a 口座振替不能.
    /// Receipts still standing per "paymentId|宛名番号", whatever their amount: received and
    /// pension deductions, less 口座振替不能. A receipt must not repeat one.
    public func standingReceipts(_ keys: [(paymentID: String, atenaNo: String)]) throws -> [String: Int] {
        guard !keys.isEmpty else { return [:] }
        var result: [String: Int] = [:]
        for row in try tx.query("""
            SELECT payment_id, atena_no,
                   (count(*) FILTER (WHERE kind IN ('received', 'pension-deducted')) - count(*) FILTER (WHERE kind = 'transfer-failed'))::int
            FROM payments
            WHERE (payment_id, atena_no) IN (SELECT * FROM unnest(\(keys.map(\.paymentID))::text[], \(keys.map(\.atenaNo))::text[]))
              AND kind IN ('received', 'pension-deducted', 'transfer-failed')
            GROUP BY payment_id, atena_no
            """) {
            let (id, person, standing) = try row.decode(String.self, String.self, Int.self)
            result["\(id)|\(person)"] = standing
        }
        return result
    }

    public func reversible(_ keys: [(paymentID: String, atenaNo: String)]) throws -> [String: Int] {
        guard !keys.isEmpty else { return [:] }
        var result: [String: Int] = [:]
        for row in try tx.query("""
            SELECT payment_id, atena_no, amount,
                   (count(*) FILTER (WHERE kind = 'received') - count(*) FILTER (WHERE kind = 'transfer-failed'))::int
            FROM payments
            WHERE (payment_id, atena_no) IN (SELECT * FROM unnest(\(keys.map(\.paymentID))::text[], \(keys.map(\.atenaNo))::text[]))
              AND kind IN ('received', 'transfer-failed')
            GROUP BY payment_id, atena_no, amount
            """) {
            let (id, person, amount, open) = try row.decode(String.self, String.self, Int.self, Int.self)
            result["\(id)|\(person)|\(amount)"] = open
        }
        return result
    }

    /// People the register knows (a payment for anyone else is held in suspense).
    public func known(_ people: [String]) throws -> Set<String> {
        guard !people.isEmpty else { return [] }
        return Set(try tx.query("""
            SELECT atena_no FROM residents WHERE atena_no = ANY(\(people)::text[]) AND current_history_no IS NOT NULL
            UNION SELECT r.atena_no FROM \(rows(of: "receivables", as: "r", for: people))
            """).map { try $0.decode(String.self, at: 0) })
    }

    public func deceased(_ people: [String]) throws -> Set<String> {
        guard !people.isEmpty else { return [] }
        return Set(try tx.query("""
            SELECT atena_no FROM residents WHERE atena_no = ANY(\(people)::text[]) AND death_date IS NOT NULL
            """).map { try $0.decode(String.self, at: 0) })
    }

    /// Receivables an officer stopped 督促 or 催告 for on `day` (markers), as (receivable id, marker).
    /// The premium receivables a コンビニ速報 holds on `day`: its 期 (or, when it names none, the
    /// person's 期 of its 年度, or all), while no 確報 with its paymentId has come and fewer than
    /// `holdDays` have passed since the store took the money.
    public func preliminaryHolds(on day: LocalDate, holdDays: Int) throws -> Set<Int> {
        Set(try tx.query("""
            SELECT DISTINCT r.id FROM payments p JOIN receivables r ON r.atena_no = p.atena_no AND r.kind = 'premium'
              AND (p.fiscal_year IS NULL OR p.fiscal_year = r.fiscal_year)
              AND (p.installment_no IS NULL OR p.installment_no = r.installment_no)
            WHERE p.kind = 'cvs-preliminary' AND p.paid_on <= \(day) AND \(day) < p.paid_on + \(holdDays)::int
              AND NOT EXISTS (SELECT 1 FROM payments c WHERE c.kind = 'received' AND c.payment_id = p.payment_id
                              AND c.atena_no = p.atena_no)
            """).map { try $0.decode(Int.self, at: 0) })
    }

    public func stops(on day: LocalDate) throws -> Set<String> {
        Set(try tx.query("""
            SELECT r.id || '/' || m.marker FROM collection_markers m JOIN receivables r ON r.atena_no = m.atena_no
              AND (m.fiscal_year IS NULL OR m.fiscal_year = r.fiscal_year)
              AND (m.installment_no IS NULL OR m.installment_no = r.installment_no)
            WHERE m.marker IN ('dunning-stopped', 'reminder-stopped') AND m.from_date <= \(day)
              AND (m.to_date IS NULL OR m.to_date >= \(day))
            """).map { try $0.decode(String.self, at: 0) })
    }

    /// Premiums paid per person in calendar `year` (payments and appropriations to premium
    /// installments, by the day they were paid) — the 社会保険料控除 figure.
    public func premiumsPaid(in year: Int, person: String? = nil) throws -> [(atenaNo: String, amount: Int)] {
        let from = LocalDate(year: year, month: 1, day: 1)!, to = LocalDate(year: year, month: 12, day: 31)!
        let filter: SQL = person.map { "AND l.atena_no = \($0)" } ?? ""
        return try tx.query("""
            SELECT l.atena_no, sum(l.amount)::bigint FROM ledger l JOIN receivables r ON r.id = l.receivable_id
            WHERE r.kind = 'premium' AND l.entry IN ('payment', 'appropriation') AND l.on_date BETWEEN \(from) AND \(to) \(filter)
            GROUP BY l.atena_no HAVING sum(l.amount) > 0 ORDER BY l.atena_no
            """).map { (try $0.decode(String.self, at: 0), try $0.decode(Int.self, at: 1)) }
    }

    /// Marks the unpaid refunds a reversed payment had funded as cancelled.
    public func cancelRefunds(fundedBy eventID: String, atenaNo: String, on date: LocalDate) throws {
        try tx.execute("""
            UPDATE refunds SET cancelled_on = \(date)
            WHERE event_id = \(eventID) AND atena_no = \(atenaNo) AND paid_on IS NULL AND cancelled_on IS NULL
            """)
    }

    public struct Refund: Sendable {
        public let atenaNo: String
        public let amount: Int
        public let interest: Int
        /// The first day the 還付加算金 counted (nil: none).
        public let interestFrom: LocalDate?
        public let decidedOn: LocalDate
        public let forHeirs: Bool
        public let eventID: String

        public init(atenaNo: String, amount: Int, interest: Int, interestFrom: LocalDate?, decidedOn: LocalDate, forHeirs: Bool,
                    eventID: String) {
            (self.atenaNo, self.amount, self.interest, self.interestFrom) = (atenaNo, amount, interest, interestFrom)
            (self.decidedOn, self.forHeirs, self.eventID) = (decidedOn, forHeirs, eventID)
        }
    }

    public func recordRefunds(_ refunds: [Refund]) throws {
        guard !refunds.isEmpty else { return }
        try tx.execute("""
            INSERT INTO refunds (atena_no, amount, interest, interest_from, decided_on, for_heirs, event_id)
            SELECT * FROM unnest(\(refunds.map(\.atenaNo))::text[], \(refunds.map(\.amount))::bigint[],
                                 \(refunds.map(\.interest))::bigint[], \(refunds.map(\.interestFrom))::date[],
                                 \(refunds.map(\.decidedOn))::date[], \(refunds.map(\.forHeirs))::bool[], \(refunds.map(\.eventID))::text[])
            """)
    }

    /// Unpaid refunds that can no longer be claimed on `day` (2 years after they were decided),
    /// per person. Payments settle the oldest refunds first, so what is unpaid is the newest:
    /// the lapsed part is what is unpaid beyond the refunds still claimable.
    public func lapsingRefunds(on day: LocalDate) throws -> [(atenaNo: String, amount: Int)] {
        // Lapsed on `day` when `RefundInterest.lapsesOn(decided_on)` (the day after + 24 months) is not later.
        try tx.query("""
            WITH r AS (
                SELECT atena_no, amount + interest AS owed,
                       ((decided_on + 1) + interval '24 months')::date <= \(day)::date AS lapsed
                FROM refunds WHERE cancelled_on IS NULL),
            decided AS (
                SELECT atena_no, sum(owed) FILTER (WHERE NOT lapsed) AS claimable FROM r GROUP BY atena_no HAVING bool_or(lapsed)),
            unpaid AS (
                SELECT l.atena_no, sum(CASE WHEN l.entry IN ('refund', 'refund-interest') THEN l.amount ELSE -l.amount END) AS unpaid
                FROM ledger l JOIN decided d ON d.atena_no = l.atena_no
                WHERE l.entry IN ('refund', 'refund-interest', 'refund-paid', 'refund-lapsed') GROUP BY l.atena_no)
            SELECT u.atena_no, (u.unpaid - coalesce(d.claimable, 0))::bigint
            FROM unpaid u JOIN decided d USING (atena_no)
            WHERE u.unpaid - coalesce(d.claimable, 0) > 0 ORDER BY u.atena_no
            """).map { (try $0.decode(String.self, at: 0), try $0.decode(Int.self, at: 1)) }
    }
}
