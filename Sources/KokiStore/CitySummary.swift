import KokiBase
import Postgres

/// What a year of the city came to, as the 後期高齢者医療 office reads it: 被保険者 by reason,
/// premiums and 軽減, 期割 billed and collected, 督促, 延滞金, 還付, 保留, transfers per
/// destination and type, dead letters. Read from the store only.
public struct CitySummary: Sendable {
    public struct Line: Sendable {
        public let label: String
        public let count: Int
        public let amount: Int?
    }

    public let fiscalYear: Int
    public let asOf: LocalDate
    public let livingHere: Int
    public let insuredByReason: [Line]
    public let lostByReason: [Line]
    public let premiumsByReduction: [Line]
    public let formerDependents: Int
    public let billedByMethod: [Line]
    public let chargedDue: Int
    public let collected: Int
    public let dunning: Int
    public let reminders: Int
    public let lateFeesCharged: Line
    public let lateFeesCollected: Int
    public let refunds: Line
    public let refundsPaid: Line
    public let appropriations: Line
    public let suspenseOpen: Line
    public let transfers: [Line]
    public let held: [Line]
    public let deadLetters: [Line]
    /// The union's decisions received, by type (`applied` for 賦課 that govern billing).
    public let unionDecisions: [Line]
    /// 突合: open discrepancies by kind, and how many were opened in all.
    public let discrepanciesOpen: [Line]
    public let discrepanciesOpened: Int
    /// 特別徴収: people with a pension 期 this 年度, those 期 and their amount (current plans).
    public let specialCollection: Line
    /// 特別徴収 requests sent to 国保連, and their answers.
    public let requestsSent: Int
    public let requestsAccepted: Int
    public let requestsRefused: Int
    /// 督促 of the 年度's 期 by their method (a pension 期 must never be).
    public let dunningOrdinary: Int
    public let dunningPension: Int
    /// People assessed for the 年度.
    public let insured: Int
    /// People with a pension 期 in the 年度.
    public let pensionPersons: Int
    /// People whose 仮徴収 (April, June, August) was set on the 年度's first business day.
    public let interimPersons: Int

    public var collectionRate: Double { chargedDue == 0 ? 0 : Double(collected) / Double(chargedDue) }

    public static func load(fiscalYear: Int, asOf: LocalDate, on conn: PostgresConnection) throws -> CitySummary {
        func lines(_ sql: SQL, amounts: Bool = true) throws -> [Line] {
            try conn.query(sql).map { Line(label: try $0.decode(at: 0), count: try $0.decode(at: 1), amount: amounts ? try $0.decode(at: 2) : nil) }
        }
        func int(_ sql: SQL) throws -> Int { try conn.query(sql)[0].decode(Int?.self, at: 0) ?? 0 }
        func line(_ label: String, _ sql: SQL) throws -> Line {
            let row = try conn.query(sql)[0]
            return Line(label: label, count: try row.decode(Int.self, at: 0), amount: try row.decode(Int?.self, at: 1) ?? 0)
        }
        let start = LocalDate(year: fiscalYear, month: 4, day: 1)!
        return CitySummary(
            fiscalYear: fiscalYear, asOf: asOf,
            livingHere: try int("SELECT count(*) FROM residents WHERE lives_here"),
            insuredByReason: try lines("""
                SELECT acquisition_reason, count(*)::bigint, NULL::bigint FROM qualification_periods
                WHERE acquired_on <= \(asOf) AND (lost_on IS NULL OR lost_on > \(asOf)) GROUP BY 1 ORDER BY 2 DESC
                """, amounts: false),
            lostByReason: try lines("""
                SELECT loss_reason, count(*)::bigint, NULL::bigint FROM qualification_periods
                WHERE lost_on BETWEEN \(start) AND \(asOf) GROUP BY 1 ORDER BY 2 DESC
                """, amounts: false),
            premiumsByReduction: try lines("""
                SELECT h.reduction, count(*)::bigint, sum(h.premium)::bigint
                FROM assessments a JOIN assessment_history h USING (atena_no, fiscal_year, history_no)
                WHERE a.fiscal_year = \(fiscalYear) GROUP BY 1 ORDER BY 1
                """),
            formerDependents: try int("""
                SELECT count(*) FROM assessments a JOIN assessment_history h USING (atena_no, fiscal_year, history_no)
                WHERE a.fiscal_year = \(fiscalYear) AND h.former_dependent
                """),
            billedByMethod: try lines("""
                SELECT i.method, count(*)::bigint, sum(i.amount)::bigint
                FROM installments i JOIN installment_plans p USING (atena_no, fiscal_year, revision)
                WHERE p.current AND i.fiscal_year = \(fiscalYear) AND i.amount > 0 GROUP BY 1 ORDER BY 1
                """),
            chargedDue: try int("""
                SELECT sum(l.amount)::bigint FROM ledger l JOIN receivables r ON r.id = l.receivable_id
                WHERE l.entry = 'charge' AND r.kind = 'premium' AND r.fiscal_year = \(fiscalYear) AND r.due_date <= \(asOf)
                """),
            collected: try int("""
                SELECT sum(l.amount)::bigint FROM ledger l JOIN receivables r ON r.id = l.receivable_id
                WHERE l.entry IN ('payment', 'appropriation') AND r.kind = 'premium' AND r.fiscal_year = \(fiscalYear)
                  AND r.due_date <= \(asOf)
                """),
            dunning: try int("SELECT count(*) FROM ledger WHERE entry = 'dunning'"),
            reminders: try int("SELECT count(*) FROM ledger WHERE entry = 'reminder'"),
            lateFeesCharged: try line("延滞金", """
                SELECT count(DISTINCT r.id)::bigint, sum(l.amount)::bigint FROM ledger l JOIN receivables r ON r.id = l.receivable_id
                WHERE l.entry = 'charge' AND r.kind = 'late-fee'
                """),
            lateFeesCollected: try int("""
                SELECT sum(l.amount)::bigint FROM ledger l JOIN receivables r ON r.id = l.receivable_id
                WHERE l.entry IN ('payment', 'appropriation') AND r.kind = 'late-fee'
                """),
            refunds: try line("還付", "SELECT count(*)::bigint, sum(amount)::bigint FROM ledger WHERE entry = 'refund'"),
            refundsPaid: try line("還付支払", "SELECT count(*)::bigint, sum(amount)::bigint FROM ledger WHERE entry = 'refund-paid'"),
            appropriations: try line("充当", "SELECT count(*)::bigint, sum(amount)::bigint FROM ledger WHERE entry = 'appropriation'"),
            suspenseOpen: try line("保留", """
                SELECT count(*)::bigint, sum(open)::bigint FROM (
                    SELECT atena_no, sum(CASE entry WHEN 'suspense' THEN amount ELSE -amount END) AS open
                    FROM ledger WHERE entry IN ('suspense', 'suspense-release') GROUP BY atena_no) s WHERE open > 0
                """),
            transfers: try lines("""
                SELECT destination || '  ' || event_type, count(*)::bigint, NULL::bigint FROM audit_log GROUP BY 1 ORDER BY 1
                """, amounts: false),
            held: try lines("""
                SELECT topic || '  ' || held_reason, count(*)::bigint, NULL::bigint FROM outbox WHERE held_at IS NOT NULL GROUP BY 1 ORDER BY 1
                """, amounts: false),
            deadLetters: try lines("""
                SELECT consumer_group || '  ' || error_kind || ': ' || reason, count(*)::bigint, NULL::bigint FROM dead_letters
                GROUP BY 1 ORDER BY 2 DESC
                """, amounts: false),
            unionDecisions: try lines("""
                SELECT label, count(*)::bigint, NULL::bigint FROM (
                    SELECT CASE WHEN applied THEN 'assessment-decided' ELSE 'assessment-decided (' || refused_reason || ')' END AS label
                    FROM union_assessments
                    UNION ALL SELECT 'qualification-decided' FROM union_qualifications) d GROUP BY 1 ORDER BY 1
                """, amounts: false),
            discrepanciesOpen: try lines("""
                SELECT kind, count(*)::bigint, NULL::bigint FROM discrepancies WHERE closed_on IS NULL GROUP BY 1 ORDER BY 1
                """, amounts: false),
            discrepanciesOpened: try int("SELECT count(*) FROM discrepancies"),
            specialCollection: try line("特別徴収", """
                SELECT count(*)::bigint, sum(amount)::bigint FROM installments i JOIN installment_plans p USING (atena_no, fiscal_year, revision)
                WHERE p.current AND i.fiscal_year = \(fiscalYear) AND i.method = 'pension' AND i.amount > 0
                """),
            requestsSent: try int("SELECT count(*) FROM pension_requests WHERE fiscal_year = \(fiscalYear)"),
            requestsAccepted: try int("SELECT count(*) FROM pension_requests WHERE fiscal_year = \(fiscalYear) AND accepted"),
            requestsRefused: try int("SELECT count(*) FROM pension_requests WHERE fiscal_year = \(fiscalYear) AND NOT accepted"),
            dunningOrdinary: try int("""
                SELECT count(*) FROM ledger l JOIN receivables r ON r.id = l.receivable_id
                WHERE l.entry = 'dunning' AND r.method = 'ordinary' AND r.fiscal_year = \(fiscalYear)
                """),
            dunningPension: try int("""
                SELECT count(*) FROM ledger l JOIN receivables r ON r.id = l.receivable_id
                WHERE l.entry = 'dunning' AND r.method = 'pension' AND r.fiscal_year = \(fiscalYear)
                """),
            insured: try int("SELECT count(*) FROM assessments WHERE fiscal_year = \(fiscalYear)"),
            pensionPersons: try int("""
                SELECT count(DISTINCT atena_no) FROM installments i JOIN installment_plans p USING (atena_no, fiscal_year, revision)
                WHERE p.current AND i.fiscal_year = \(fiscalYear) AND i.method = 'pension' AND i.amount > 0
                """),
            interimPersons: try int("SELECT coalesce((SELECT persons FROM interim_runs WHERE fiscal_year = \(fiscalYear)), 0)"))
    }
}
