import KokiBase

extension TransferType {
    /// 収納情報 (to the insurer): a payment applied to an installment (negative: reversed).
    public static let receipt = "koiki.receipt"
    /// 滞納者情報 (to the insurer): a 督促 issued, or a 不納欠損.
    public static let delinquency = "koiki.delinquency"
    /// On `koki.notices.v1`.
    public static let dunningNotice = "notice.dunning"
    public static let reminderNotice = "notice.reminder"
    public static let appropriationNotice = "notice.appropriation"
    public static let refundNotice = "notice.refund"
    public static let lateFeeNotice = "notice.late-fee"
    /// For the staff: money that could not be matched to a person.
    public static let suspenseNotice = "notice.suspense"
}

/// 収納情報 / 滞納者情報 for one receivable.
public struct CollectionTransfer: Codable, Sendable {
    public let atenaNo: String
    public let fiscalYear: Int
    public let installmentNo: Int
    public let method: String
    public let kind: String
    public let dueDate: LocalDate
    /// What moved (a payment, an appropriation, a write-off); 0 for a 督促.
    public let amount: Int
    public let balance: Int
    public let onDate: LocalDate
    /// `payment`, `appropriation`, `reversal`, `dunning`, `reminder`, `write-off`, `late-fee`.
    public let event: String

    public init(atenaNo: String, fiscalYear: Int, installmentNo: Int, method: String, kind: String, dueDate: LocalDate,
                amount: Int, balance: Int, onDate: LocalDate, event: String) {
        self.atenaNo = atenaNo
        self.fiscalYear = fiscalYear
        self.installmentNo = installmentNo
        self.method = method
        self.kind = kind
        self.dueDate = dueDate
        self.amount = amount
        self.balance = balance
        self.onDate = onDate
        self.event = event
    }
}

/// 充当通知書 / 還付通知書 / 保留 (suspense).
public struct MoneyNotice: Codable, Sendable {
    public let atenaNo: String
    public let amount: Int
    public let decidedOn: LocalDate
    public let forHeirs: Bool
    /// 還付加算金 (refund notices only; absent on the others).
    public let interest: Int?

    public init(atenaNo: String, amount: Int, decidedOn: LocalDate, forHeirs: Bool, interest: Int? = nil) {
        self.atenaNo = atenaNo
        self.amount = amount
        self.decidedOn = decidedOn
        self.forHeirs = forHeirs
        self.interest = interest
    }
}

extension TransferType {
    /// To 市民税課 (`transfer.municipal-tax.v1`): premiums paid in a calendar year (社会保険料控除).
    public static let premiumsPaid = "municipal-tax.premiums-paid"
}

public struct PremiumsPaidTransfer: Codable, Sendable {
    public let atenaNo: String
    public let calendarYear: Int
    public let amount: Int

    public init(atenaNo: String, calendarYear: Int, amount: Int) {
        self.atenaNo = atenaNo
        self.calendarYear = calendarYear
        self.amount = amount
    }
}
