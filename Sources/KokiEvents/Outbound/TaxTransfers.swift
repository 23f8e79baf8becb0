import KokiBase
import KokiDomain

extension TransferType {
    /// 所得・課税情報 (to the insurer), for the insured and the 世帯主 of a household with insured.
    public static let incomeRecord = "koiki.income-record"
    /// 賦課 results.
    public static let assessment = "koiki.assessment"
    /// 期割情報.
    public static let installments = "koiki.installments"
    /// To a department, about a person enrolled with it.
    public static let departmentPremiumChanged = "premium.changed"
    public static let departmentBurdenRatioChanged = "burden-ratio.changed"
    /// On `koki.notices.v1`: 保険料額決定通知書 / 変更通知書.
    public static let premiumDecidedNotice = "notice.premium-decided"
    public static let premiumChangedNotice = "notice.premium-changed"
    /// On `koki.notices.v1`: 特別徴収（仮徴収）額決定通知書 — the April, June and August deductions
    /// before the 本算定 (or a change of them: a deduction stopped).
    public static let interimCollectionNotice = "notice.interim-collection"
    /// To 国保連 (for the 年金保険者): a 特別徴収 依頼, 変更 or 中止.
    public static let pensionRequest = "kokuhoren.pension-request"
    /// On `koki.notices.v1`: the 特別徴収 ended for the year (a refused request, a switch to
    /// 口座振替) and the rest is billed by 普通徴収 on new 納期.
    public static let collectionMethodChangedNotice = "notice.collection-method-changed"
}

/// A request to the 年金保険者, through 国保連: who, the 年度, and the amount per payment month.
public struct PensionRequestTransfer: Codable, Sendable {
    /// The amount of one payment month.
    public typealias Amount = PensionRequests.Amount

    public let requestId: String
    public let atenaNo: String
    public let fiscalYear: Int
    /// `request` (依頼), `change` (変更) or `stop` (中止).
    public let kind: String
    public let sentOn: LocalDate
    public let amounts: [Amount]
    /// Why a 中止 or 変更 is sent: `lost` (資格喪失), `premium-decreased`, `leveling` (平準化),
    /// `premium-changed`, `payment-method-change`.
    public let reason: String?

    public init(requestId: String, atenaNo: String, fiscalYear: Int, kind: String, sentOn: LocalDate, amounts: [Amount],
                reason: String?) {
        self.requestId = requestId
        self.atenaNo = atenaNo
        self.fiscalYear = fiscalYear
        self.kind = kind
        self.sentOn = sentOn
        self.amounts = amounts
        self.reason = reason
    }
}

/// The 特別徴収 ended for the year: the 期 the person now pays by 普通徴収.
public struct CollectionMethodChangedNotice: Codable, Sendable {
    public let atenaNo: String
    public let insuredNumber: String?
    public let fiscalYear: Int
    /// e.g. 令和8年9月1日.
    public let decidedOn: String
    /// `refused` (the 年金保険者 could not deduct) or `payment-method-change` (the person asked for 口座振替).
    public let reason: String
    public let installments: [InstallmentBody]

    public init(atenaNo: String, insuredNumber: String?, fiscalYear: Int, decidedOn: String, reason: String,
                installments: [InstallmentBody]) {
        self.atenaNo = atenaNo
        self.insuredNumber = insuredNumber
        self.fiscalYear = fiscalYear
        self.decidedOn = decidedOn
        self.reason = reason
        self.installments = installments
    }
}

/// 仮徴収額決定通知書: the deductions before the 本算定, for the person.
public struct InterimCollectionNotice: Codable, Sendable {
    public let atenaNo: String
    public let insuredNumber: String?
    public let fiscalYear: Int
    /// e.g. 令和9年4月1日.
    public let decidedOn: String
    public let installments: [InstallmentBody]
    /// The deductions stopped after this notice's date (資格喪失 before the 本算定).
    public let stopped: Bool

    public init(atenaNo: String, insuredNumber: String?, fiscalYear: Int, decidedOn: String, installments: [InstallmentBody],
                stopped: Bool) {
        self.atenaNo = atenaNo
        self.insuredNumber = insuredNumber
        self.fiscalYear = fiscalYear
        self.decidedOn = decidedOn
        self.installments = installments
        self.stopped = stopped
    }
}

/// 賦課 results for one person and 年度, with the 変更前 figures on a change.
public struct AssessmentTransfer: Codable, Sendable {
    public struct Figures: Codable, Sendable, Hashable {
        public let reduction: String
        public let incomeBase: Int
        public let perCapita: Int
        public let perCapitaReduction: Int
        public let incomeShare: Int
        public let calculated: Int
        public let capExcess: Int
        public let annual: Int
        public let months: Int
        public let monthlyReduction: Int
        public let exemption: Int
        public let premium: Int

        public init(reduction: String, incomeBase: Int, perCapita: Int, perCapitaReduction: Int, incomeShare: Int,
                    calculated: Int, capExcess: Int, annual: Int, months: Int, monthlyReduction: Int, exemption: Int,
                    premium: Int) {
            self.reduction = reduction
            self.incomeBase = incomeBase
            self.perCapita = perCapita
            self.perCapitaReduction = perCapitaReduction
            self.incomeShare = incomeShare
            self.calculated = calculated
            self.capExcess = capExcess
            self.annual = annual
            self.months = months
            self.monthlyReduction = monthlyReduction
            self.exemption = exemption
            self.premium = premium
        }
    }

    public let atenaNo: String
    public let insuredNumber: String?
    public let fiscalYear: Int
    public let historyNo: Int
    public let decidedOn: LocalDate
    public let reason: String
    public let formerDependent: Bool
    public let provisional: Bool
    public let figures: Figures
    public let before: Figures?

    public init(atenaNo: String, insuredNumber: String?, fiscalYear: Int, historyNo: Int, decidedOn: LocalDate, reason: String,
                formerDependent: Bool, provisional: Bool, figures: Figures, before: Figures?) {
        self.atenaNo = atenaNo
        self.insuredNumber = insuredNumber
        self.fiscalYear = fiscalYear
        self.historyNo = historyNo
        self.decidedOn = decidedOn
        self.reason = reason
        self.formerDependent = formerDependent
        self.provisional = provisional
        self.figures = figures
        self.before = before
    }
}

public struct InstallmentBody: Codable, Sendable, Hashable {
    public let no: Int
    public let dueDate: LocalDate
    public let amount: Int
    public let method: String

    public init(no: Int, dueDate: LocalDate, amount: Int, method: String) {
        self.no = no
        self.dueDate = dueDate
        self.amount = amount
        self.method = method
    }
}

/// 期割情報: a person's plan for a 年度 after a decision.
public struct InstallmentsTransfer: Codable, Sendable {
    public let atenaNo: String
    public let fiscalYear: Int
    public let revision: Int
    public let decidedOn: LocalDate
    public let installments: [InstallmentBody]
    /// True while the plan bills koki's own figure (the union has not decided the 年度's 賦課).
    public let provisional: Bool

    public init(atenaNo: String, fiscalYear: Int, revision: Int, decidedOn: LocalDate, installments: [InstallmentBody],
                provisional: Bool) {
        self.atenaNo = atenaNo
        self.fiscalYear = fiscalYear
        self.revision = revision
        self.decidedOn = decidedOn
        self.installments = installments
        self.provisional = provisional
    }
}

/// 保険料額決定通知書 / 変更通知書: what the printed notice says.
public struct PremiumNotice: Codable, Sendable {
    public let atenaNo: String
    public let insuredNumber: String?
    public let fiscalYear: Int
    /// e.g. 令和8年7月1日.
    public let decidedOn: String
    public let premium: Int
    public let previousPremium: Int?
    public let months: Int
    public let reduction: String
    public let installments: [InstallmentBody]
    /// True while the premium is koki's own figure (暫定: the union has not decided it yet).
    public let provisional: Bool

    public init(atenaNo: String, insuredNumber: String?, fiscalYear: Int, decidedOn: String, premium: Int, previousPremium: Int?,
                months: Int, reduction: String, installments: [InstallmentBody], provisional: Bool) {
        self.provisional = provisional
        self.atenaNo = atenaNo
        self.insuredNumber = insuredNumber
        self.fiscalYear = fiscalYear
        self.decidedOn = decidedOn
        self.premium = premium
        self.previousPremium = previousPremium
        self.months = months
        self.reduction = reduction
        self.installments = installments
    }
}

/// A department's copy: premium and 負担割合 of a person enrolled with it.
public struct DepartmentPremiumTransfer: Codable, Sendable {
    public let atenaNo: String
    public let fiscalYear: Int
    public let premium: Int
    public let months: Int

    public init(atenaNo: String, fiscalYear: Int, premium: Int, months: Int) {
        self.atenaNo = atenaNo
        self.fiscalYear = fiscalYear
        self.premium = premium
        self.months = months
    }
}

public struct BurdenRatioTransfer: Codable, Sendable {
    public let atenaNo: String
    public let effectiveFrom: LocalDate
    /// 10, 20 or 30 (percent).
    public let ratio: Int

    public init(atenaNo: String, effectiveFrom: LocalDate, ratio: Int) {
        self.atenaNo = atenaNo
        self.effectiveFrom = effectiveFrom
        self.ratio = ratio
    }
}

extension TransferType {
    /// The office's daily 突合 summary (counts only, no person).
    public static let reconciliationSummary = "notice.reconciliation-summary"
}

/// The daily 突合 summary for the office (`koki.notices.v1`, key `office`), sent as the next business
/// day begins: the discrepancies open by kind, and how many opened and closed on `date`.
public struct ReconciliationSummary: Codable, Sendable {
    public struct Count: Codable, Sendable, Hashable {
        public let kind: String
        public let open: Int

        public init(kind: String, open: Int) {
            self.kind = kind
            self.open = open
        }
    }

    public let date: LocalDate
    public let open: [Count]
    public let openedToday: Int
    public let closedToday: Int

    public init(date: LocalDate, open: [Count], openedToday: Int, closedToday: Int) {
        (self.date, self.open, self.openedToday, self.closedToday) = (date, open, openedToday, closedToday)
    }
}
