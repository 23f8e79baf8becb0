import KokiBase
import KokiDomain
import KokiEvents
import Postgres

/// The counter inquiry (`koki person`): everything current about one person.
public struct PersonInquiry: Encodable, Sendable {
    public struct Span: Encodable, Sendable {
        public let from: LocalDate?
        public let through: LocalDate?
        public let detail: String?

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(from, forKey: .from)
            try c.encode(through, forKey: .through)
            try c.encodeIfPresent(detail, forKey: .detail)
        }

        enum CodingKeys: String, CodingKey { case from, through, detail }
    }

    public struct Member: Encodable, Sendable {
        public let atenaNo: String
        public let relationshipToHead: String
        public let nameKanji: String
        public let insured: Bool
    }

    public let atenaNo: String
    public let householdNo: String?
    /// 個人番号, masked to the last four digits.
    public let myNumber: String?
    public let nameKanji: String?
    public let nameKana: String?
    public let sex: String?
    public let birthDate: LocalDate?
    public let deathDate: LocalDate?
    public let residentStatus: String?
    public let address: ResidentChange.Address?
    public let livesHere: Bool
    public let insured: Bool
    /// 被保険者番号.
    public let insuredNumber: String?
    public let asOf: LocalDate?
    public let qualifications: [PeriodBody]
    public let disabilityCertified: [Span]
    public let publicAssistance: [Span]
    public let specialAddress: [Span]
    public let formerDependent: [Span]
    public let enrollments: [Span]
    public let certificates: [Span]
    public let household: [Member]

    public struct PremiumLine: Encodable, Sendable {
        public let fiscalYear: Int
        /// What is billed: the union's 賦課 once it decided, koki's own figure before.
        public let annualPremium: Int
        public let reduction: String
        public let months: Int
        /// True while the figure is koki's own (暫定: the union has not decided the 年度).
        public let provisional: Bool
        /// koki's own computation (the check; nil if koki has not assessed the 年度).
        public let kokiPremium: Int?
        /// The union's decided amount and its revision (nil before it decides).
        public let unionPremium: Int?
        public let unionRevision: Int?
    }

    public struct InstallmentLine: Encodable, Sendable {
        public let fiscalYear: Int
        public let no: Int
        public let dueDate: LocalDate
        public let amount: Int
        public let method: String
        /// Paid (and appropriated) so far.
        public let paid: Int
        /// What is still owed (0 once paid or written off).
        public let balance: Int
        /// The 督促 date, if one was issued.
        public let dunnedOn: LocalDate?

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(fiscalYear, forKey: .fiscalYear)
            try c.encode(no, forKey: .no)
            try c.encode(dueDate, forKey: .dueDate)
            try c.encode(amount, forKey: .amount)
            try c.encode(method, forKey: .method)
            try c.encode(paid, forKey: .paid)
            try c.encode(balance, forKey: .balance)
            try c.encode(dunnedOn, forKey: .dunnedOn)
        }

        enum CodingKeys: String, CodingKey { case fiscalYear, no, dueDate, amount, method, paid, balance, dunnedOn }
    }

    public struct LateFeeLine: Encodable, Sendable {
        public let fiscalYear: Int
        public let no: Int
        public let amount: Int
        public let balance: Int
    }

    public struct OverpaymentLine: Encodable, Sendable {
        public let amount: Int
        /// `refund` or `appropriation`.
        public let kind: String
        public let decidedOn: LocalDate
    }

    /// 延滞金 assessed, per installment.
    public let lateFees: [LateFeeLine]
    /// Over-payments: appropriated (充当) or refunded (還付).
    public let overpayments: [OverpaymentLine]

    /// 賦課 per 年度 (the current decision).
    public let premiums: [PremiumLine]
    /// 負担割合 (10, 20, 30) in force on the person's as-of date, if judged.
    public let burdenRatio: Int?
    /// 期割 of the current plans.
    public let installments: [InstallmentLine]
    /// Open 突合 items: where the union's decisions and koki's computation disagree.
    public let discrepancies: [UnionStore.Discrepancy]

    /// A 特別徴収 依頼・変更・中止 sent to the 年金保険者 (through 国保連), and its answer.
    public struct PensionRequestLine: Encodable, Sendable {
        public let fiscalYear: Int
        public let requestId: String
        /// `request`, `change` or `stop`.
        public let kind: String
        public let sentOn: LocalDate
        public let amounts: [PensionRequests.Amount]
        public let reason: String?
        /// `pending`, `accepted` or `refused`.
        public let result: String
        public let resultOn: LocalDate?
        public let resultReason: String?
    }

    /// Every 特別徴収 request and its result, oldest first.
    public let pensionRequests: [PensionRequestLine]

    /// nil when koki knows nothing about `atenaNo`. `maskMyNumber` turns the sealed 個人番号
    /// into what the inquiry shows (the masked digits when the keyring is at hand).
    public static func load(_ atenaNo: String, on conn: PostgresConnection,
                            maskMyNumber: (String) -> String) throws -> PersonInquiry? {
        guard let r = try conn.query("""
            SELECT household_no, my_number_sealed, current_history_no, birth_date, death_date, lives_here, insured, insured_number, as_of
            FROM residents WHERE atena_no = \(atenaNo)
            """).first else { return nil }
        let store = ResidentStore(conn)
        let record = try store.history(of: [atenaNo])[atenaNo]?.first { $0.historyNo == (try? r.decode(Int?.self, at: 2)) ?? nil }
        let periods = try QualificationStore(conn).periods(of: [atenaNo])[atenaNo] ?? []
        let notices = try NoticeStore(conn).dated(of: [atenaNo])
        func spans(_ list: [NoticeStore.Dated]?, on: Set<String>) -> [Span] {
            DayRange.spans((list ?? []).map { Switch(date: $0.effectiveDate, order: $0.seq, on: on.contains($0.kind)) })
                .map { Span(from: $0.from, through: $0.through, detail: nil) }
        }
        let assistance = notices.assistance[atenaNo] ?? []
        var enrollments: [Span] = []
        for (department, list) in Dictionary(grouping: notices.enrollment[atenaNo] ?? [], by: \.detail).sorted(by: { $0.key < $1.key }) {
            enrollments += spans(list, on: ["enrolled"]).map { Span(from: $0.from, through: $0.through, detail: department) }
        }
        let dependents = try conn.query("""
            SELECT dependent_until, insurer_name FROM former_dependents WHERE atena_no = \(atenaNo) ORDER BY seq
            """).map { Span(from: nil, through: try $0.decode(LocalDate.self, at: 0), detail: try $0.decode(String.self, at: 1)) }
        let certificates = try conn.query("""
            SELECT valid_from, insured_number FROM qualification_certificates WHERE atena_no = \(atenaNo) ORDER BY valid_from
            """).map { Span(from: try $0.decode(LocalDate.self, at: 0), through: nil, detail: try $0.decode(String.self, at: 1)) }
        let premiums = try conn.query("""
            WITH koki AS (
                SELECT h.fiscal_year, h.premium, h.reduction, h.months FROM assessments a JOIN assessment_history h
                  ON h.atena_no = a.atena_no AND h.fiscal_year = a.fiscal_year AND h.history_no = a.history_no
                WHERE a.atena_no = \(atenaNo)),
            union_decided AS (
                SELECT DISTINCT ON (fiscal_year) fiscal_year, annual_premium, reduction, cardinality(collecting_months) AS months,
                       revision
                FROM union_assessments WHERE atena_no = \(atenaNo) AND applied ORDER BY fiscal_year, revision DESC)
            SELECT coalesce(u.fiscal_year, k.fiscal_year), coalesce(u.annual_premium, k.premium), coalesce(u.reduction, k.reduction),
                   coalesce(u.months, k.months), u.fiscal_year IS NULL, k.premium, u.annual_premium, u.revision
            FROM koki k FULL JOIN union_decided u ON u.fiscal_year = k.fiscal_year ORDER BY 1
            """).map { PremiumLine(fiscalYear: try $0.decode(at: 0), annualPremium: try $0.decode(at: 1),
                                   reduction: try $0.decode(at: 2), months: try $0.decode(at: 3), provisional: try $0.decode(at: 4),
                                   kokiPremium: try $0.decode(at: 5), unionPremium: try $0.decode(at: 6),
                                   unionRevision: try $0.decode(at: 7)) }
        let discrepancies = try UnionStore(conn).discrepancies(openOnly: true, person: atenaNo)
        let asOf = try r.decode(LocalDate?.self, at: 8)
        let burden = try conn.query("""
            SELECT ratio FROM burden_ratios WHERE atena_no = \(atenaNo)
              AND (\(asOf)::date IS NULL OR effective_from <= \(asOf)::date OR effective_from = (
                   SELECT min(effective_from) FROM burden_ratios WHERE atena_no = \(atenaNo)))
            ORDER BY effective_from DESC, history_no DESC LIMIT 1
            """).first.map { try $0.decode(Int.self, at: 0) }
        let ledger = try LedgerStore(conn).receivables(of: [atenaNo])
        func receivable(_ year: Int, _ no: Int, _ method: String, _ kind: Allocation.Kind) -> LedgerStore.Receivable? {
            ledger.first { $0.open.fiscalYear == year && $0.open.installmentNo == no && $0.open.method.rawValue == method
                           && $0.open.kind == kind }
        }
        let settled = try Dictionary(uniqueKeysWithValues: conn.query("""
            SELECT receivable_id, coalesce(sum(amount) FILTER (WHERE entry IN ('payment', 'appropriation')), 0)::bigint
            FROM ledger WHERE atena_no = \(atenaNo) AND receivable_id IS NOT NULL GROUP BY receivable_id
            """).map { (try $0.decode(Int.self, at: 0), try $0.decode(Int.self, at: 1)) })
        let installments = try conn.query("""
            SELECT i.fiscal_year, i.installment_no, i.due_date, i.amount, i.method FROM installment_plans p
            JOIN installments i ON i.atena_no = p.atena_no AND i.fiscal_year = p.fiscal_year AND i.revision = p.revision
            WHERE p.current AND p.atena_no = \(atenaNo) ORDER BY i.fiscal_year, i.due_date, i.method
            """).map { row in
            let (year, no, due, amount, method) = try row.decode(Int.self, Int.self, LocalDate.self, Int.self, String.self)
            let r = receivable(year, no, method, .premium)
            return InstallmentLine(fiscalYear: year, no: no, dueDate: due, amount: amount, method: method,
                                   paid: r.flatMap { settled[$0.open.id] } ?? 0, balance: r?.open.balance ?? amount,
                                   dunnedOn: r?.dunnedOn)
        }
        let lateFees = ledger.filter { $0.open.kind == .lateFee }.map {
            LateFeeLine(fiscalYear: $0.open.fiscalYear, no: $0.open.installmentNo, amount: $0.charged, balance: $0.open.balance)
        }
        let overpayments = try conn.query("""
            SELECT sum(amount)::bigint, entry, on_date FROM ledger
            WHERE atena_no = \(atenaNo) AND entry IN ('refund', 'appropriation') GROUP BY entry, on_date, event_id ORDER BY on_date
            """).map { OverpaymentLine(amount: try $0.decode(at: 0), kind: try $0.decode(at: 1), decidedOn: try $0.decode(at: 2)) }
        let householdNo = try r.decode(String?.self, at: 0)
        let household = try householdNo.map { try store.currentMembers(of: [$0]) } ?? []
        return PersonInquiry(
            atenaNo: atenaNo, householdNo: householdNo, myNumber: try r.decode(String?.self, at: 1).map(maskMyNumber),
            nameKanji: record?.nameKanji, nameKana: record?.nameKana, sex: record?.sex, birthDate: try r.decode(at: 3),
            deathDate: try r.decode(at: 4), residentStatus: record?.residentStatus, address: record?.address,
            livesHere: try r.decode(at: 5), insured: try r.decode(at: 6), insuredNumber: try r.decode(at: 7),
            asOf: try r.decode(at: 8),
            qualifications: periods.map { PeriodBody(acquiredOn: $0.period.acquiredOn,
                                                     acquisitionReason: $0.period.acquisitionReason.rawValue,
                                                     lostOn: $0.period.lostOn, lossReason: $0.period.lossReason?.rawValue) },
            disabilityCertified: spans(notices.disability[atenaNo], on: ["certified"]),
            publicAssistance: spans(assistance.filter { $0.kind == "started" || $0.kind == "ended" }, on: ["started"]),
            specialAddress: spans(notices.specialAddress[atenaNo], on: ["started"]),
            formerDependent: dependents, enrollments: enrollments, certificates: certificates,
            household: household.map { Member(atenaNo: $0.row.atenaNo, relationshipToHead: $0.row.relationshipToHead,
                                              nameKanji: $0.row.nameKanji, insured: $0.insured) },
            lateFees: lateFees, overpayments: overpayments, premiums: premiums, burdenRatio: burden,
            installments: installments, discrepancies: discrepancies,
            pensionRequests: try PensionRequestStore(conn).requests(of: atenaNo).map {
                PensionRequestLine(fiscalYear: $0.fiscalYear, requestId: $0.requestID, kind: $0.kind.rawValue, sentOn: $0.sentOn,
                                   amounts: $0.resultAmounts ?? $0.amounts, reason: $0.reason,
                                   result: $0.accepted.map { $0 ? "accepted" : "refused" } ?? "pending", resultOn: $0.resultOn,
                                   resultReason: $0.resultReason)
            })
    }
}
