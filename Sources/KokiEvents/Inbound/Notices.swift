import KokiBase
import KokiDomain

/// `welfare.public-assistance.v1` — 生活保護 from 生活福祉課.
public struct PublicAssistanceNotice: Decodable, Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case started = "welfare.assistance-started"
        case ended = "welfare.assistance-ended"
        case suspended = "welfare.assistance-suspended"
        case resumed = "welfare.assistance-resumed"
    }

    public let atenaNo: String
    public let householdNo: String?
    public let caseNo: String
    public let effectiveDate: LocalDate
}

/// `counter.applications.v1` — 届出・申請 taken at the city's counters. Every type carries
/// these three; the rest depends on the type.
public struct CounterApplication: Decodable, Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case disabilityCertification = "application.disability-certification"
        case disabilityWithdrawal = "application.disability-withdrawal"
        case specialAddressStarted = "application.special-address-started"
        case specialAddressEnded = "application.special-address-ended"
        case formerDependent = "application.former-dependent"
        case premiumReduction = "application.premium-reduction"
        case highCostMedical = "application.high-cost-medical"
        case funeralExpenses = "application.funeral-expenses"
        case paymentMethodChange = "application.payment-method-change"
    }

    public let atenaNo: String
    public let receivedDate: LocalDate
    public let applicationNo: String
}

/// `application.disability-certification`: 障害認定 from `certifiedDate`.
public struct DisabilityCertification: Decodable, Sendable {
    public let certifiedDate: LocalDate
    public let grade: String
}

/// `application.disability-withdrawal` and the 住所地特例 start/end: one date. For a
/// withdrawal it is the first day without the certification.
public struct EffectiveDateOnly: Decodable, Sendable {
    public let effectiveDate: LocalDate
}

/// `application.special-address-started|ended` (住所地特例).
public struct SpecialAddressNotice: Decodable, Sendable {
    public let effectiveDate: LocalDate
    public let facilityName: String
    public let previousInsurer: String
}

/// `application.former-dependent` (元被扶養者).
public struct FormerDependentNotice: Decodable, Sendable {
    public let insurerName: String
    public let dependentUntil: LocalDate
}

/// `department.enrollments.v1` — who each department serves.
public struct EnrollmentNotice: Decodable, Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case enrolled = "department.enrolled"
        case unenrolled = "department.unenrolled"
    }

    public let department: Department
    public let atenaNo: String
    public let program: String
    public let effectiveDate: LocalDate
}

/// The city departments that receive transfers about the people enrolled with them.
public enum Department: String, Codable, Sendable, CaseIterable {
    case welfareLivelihood = "welfare-livelihood"
    case disabilityWelfare = "disability-welfare"
    case childDevelopment = "child-development"

    /// The department's transfer topic.
    public var topic: String { "transfer.\(rawValue).v1" }
}

/// `clock.business-day.v1`.
public struct BusinessDay: Decodable, Sendable {
    public static let type = "clock.business-day"
    public let date: LocalDate
}

/// `tax.income.v1` — 所得・課税 from 市民税課. `publicPensionIncome` and `salaryIncome` are
/// revenues (収入); `otherIncome` is other 所得.
public struct IncomeRecord: Codable, Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case assessed = "tax.income-assessed"
        case corrected = "tax.income-corrected"
    }

    public let atenaNo: String
    public let incomeYear: Int
    public let declared: Bool
    public let totalIncome: Int
    public let totalIncomeForAssessment: Int
    public let publicPensionIncome: Int
    public let salaryIncome: Int
    public let otherIncome: Int
    public let taxableIncome: Int
    public let residentTaxExempt: Bool

    public init(atenaNo: String, incomeYear: Int, declared: Bool, totalIncome: Int, totalIncomeForAssessment: Int,
                publicPensionIncome: Int, salaryIncome: Int, otherIncome: Int, taxableIncome: Int, residentTaxExempt: Bool) {
        self.atenaNo = atenaNo
        self.incomeYear = incomeYear
        self.declared = declared
        self.totalIncome = totalIncome
        self.totalIncomeForAssessment = totalIncomeForAssessment
        self.publicPensionIncome = publicPensionIncome
        self.salaryIncome = salaryIncome
        self.otherIncome = otherIncome
        self.taxableIncome = taxableIncome
        self.residentTaxExempt = residentTaxExempt
    }
}

/// `pension.deduction-targets.v1` — 特別徴収対象者情報.
public struct PensionDeductionTarget: Codable, Sendable {
    public static let type = "pension.deduction-target"

    public let atenaNo: String
    public let fiscalYear: Int
    public let pensionAnnualAmount: Int
    public let pensionPerPayment: Int
    public let longTermCarePremiumDeducted: Bool
    public let longTermCarePremiumPerPayment: Int

    public init(atenaNo: String, fiscalYear: Int, pensionAnnualAmount: Int, pensionPerPayment: Int,
                longTermCarePremiumDeducted: Bool, longTermCarePremiumPerPayment: Int) {
        self.atenaNo = atenaNo
        self.fiscalYear = fiscalYear
        self.pensionAnnualAmount = pensionAnnualAmount
        self.pensionPerPayment = pensionPerPayment
        self.longTermCarePremiumDeducted = longTermCarePremiumDeducted
        self.longTermCarePremiumPerPayment = longTermCarePremiumPerPayment
    }
}

/// `pension.request-result` (on `pension.deduction-targets.v1`) — the 年金保険者's answer, through
/// 国保連, to a request koki sent (`kokuhoren.pension-request`).
public struct PensionRequestResult: Codable, Sendable {
    public static let type = "pension.request-result"

    /// The amount of one payment month.
    public typealias Amount = PensionRequests.Amount

    public let atenaNo: String
    public let fiscalYear: Int
    public let requestId: String
    public let accepted: Bool
    public let reason: String?
    public let amounts: [Amount]?

    public init(atenaNo: String, fiscalYear: Int, requestId: String, accepted: Bool, reason: String?, amounts: [Amount]?) {
        self.atenaNo = atenaNo
        self.fiscalYear = fiscalYear
        self.requestId = requestId
        self.accepted = accepted
        self.reason = reason
        self.amounts = amounts
    }
}

/// `application.payment-method-change`: the person asks to pay by 口座振替 instead of from the
/// pension (高確法施行令 23条3号: the city may allow it).
public struct PaymentMethodChangeNotice: Decodable, Sendable {
    public let bankAccountRef: String
    public let effectiveDate: LocalDate
}

/// `application.high-cost-medical` (高額療養費): forwarded to the insurer.
public struct HighCostMedicalApplication: Decodable, Sendable {
    public let bankAccountRef: String
}

/// `application.funeral-expenses` (葬祭費): forwarded to the insurer.
public struct FuneralExpensesApplication: Decodable, Sendable {
    public let deceasedAtenaNo: String
    public let funeralDate: LocalDate
    public let bankAccountRef: String
}

/// `application.premium-reduction` (減免, the union's decision forwarded by the counter).
public struct PremiumReductionNotice: Decodable, Sendable {
    public let fiscalYear: Int
    public let reason: String
    public let reductionPercent: Int
    public let decidedDate: LocalDate
}

/// `collection.payments.v1` — banks, convenience stores, 口座振替, pension.
public struct PaymentRecord: Codable, Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case received = "payment.received"
        case transferFailed = "payment.transfer-failed"
        case pensionDeducted = "payment.pension-deducted"
        case refundPaid = "payment.refund-paid"
        /// コンビニ速報: the store took the money; the 確報 (`payment.received`, same paymentId) moves it.
        case cvsPreliminary = "payment.cvs-preliminary"

        /// The word the store uses.
        public var stored: String { String(rawValue.dropFirst("payment.".count)) }
    }

    public enum Channel: String, Codable, Sendable {
        case bank, convenienceStore = "convenience-store", accountTransfer = "account-transfer", pension, counter
    }

    public let paymentId: String
    public let atenaNo: String
    public let fiscalYear: Int?
    public let installmentNo: Int?
    public let amount: Int
    public let paidOn: LocalDate
    public let creditedOn: LocalDate?
    public let channel: Channel

    public init(paymentId: String, atenaNo: String, fiscalYear: Int?, installmentNo: Int?, amount: Int, paidOn: LocalDate,
                creditedOn: LocalDate?, channel: Channel) {
        self.paymentId = paymentId
        self.atenaNo = atenaNo
        self.fiscalYear = fiscalYear
        self.installmentNo = installmentNo
        self.amount = amount
        self.paidOn = paidOn
        self.creditedOn = creditedOn
        self.channel = channel
    }
}
