import KokiBase
import KokiDomain

/// A body that breaks the contract's rules beyond its shape. The reason names the field and
/// the rule, never the value: it goes to logs, metrics and the dead-letter table.
public struct InvalidBody: Error, Sendable, Equatable {
    public let reason: String

    public init(_ reason: String) {
        self.reason = reason
    }
}

/// An inbound body with the contract's rules attached to its type, so every worker that
/// decodes it checks the same things (`InboundEvent.decodeValid`). `key` is the Kafka key:
/// an event about a person must be keyed by its 宛名番号.
public protocol ValidatedBody: Decodable, Sendable {
    func validate(key: String?) throws(InvalidBody)
}

/// The rules every inbound body is held to (EVENTS.md), in one place. Bounds are wide enough
/// for any real record and narrow enough that no arithmetic on an accepted value can leave
/// `LocalDate`'s range or overflow `Int`.
public enum InboundRules {
    /// Dates koki accepts: no one alive was born before 1880, and nothing is dated after 2200.
    public static let plausible = LocalDate(year: 1880, month: 1, day: 1)!...LocalDate(year: 2200, month: 12, day: 31)!
    /// 年度 and 所得年: from the system's start (2008) with room for old records, to 2200.
    public static let years = 1990...2200
    /// Any amount of money an event carries, in yen: 1,000 億円 — far beyond any income, pension or
    /// premium, and small enough that sums and products of a few of them stay far inside `Int`.
    public static let maxYen = 100_000_000_000

    /// Dates of payments: the 収納 systems koki replaces keep nothing older than 2000.
    public static let paymentDates = LocalDate(year: 2000, month: 1, day: 1)!...plausible.upperBound
    /// Dates koki derives itself from plausible ones (a period's day after, a 2-year window),
    /// on koki's own topics.
    public static let derived = plausible.lowerBound...LocalDate(year: 2300, month: 12, day: 31)!

    public static func date(_ date: LocalDate, _ field: String, in range: ClosedRange<LocalDate> = plausible) throws(InvalidBody) {
        guard range.contains(date) else { throw InvalidBody("\(field) is out of range") }
    }

    public static func year(_ year: Int, _ field: String) throws(InvalidBody) {
        guard years.contains(year) else { throw InvalidBody("\(field) is out of range") }
    }

    /// An amount of yen from 0 (or `minimum`) to `maxYen`.
    public static func yen(_ value: Int, _ field: String, minimum: Int = 0, maximum: Int = maxYen) throws(InvalidBody) {
        guard value >= minimum else {
            throw InvalidBody(minimum == 0 ? "\(field) must not be negative" : "\(field) must be at least \(minimum)")
        }
        guard value <= maximum else { throw InvalidBody("\(field) is out of range") }
    }

    public static func digits(_ text: String, count: ClosedRange<Int>) -> Bool {
        count.contains(text.utf8.count) && text.utf8.allSatisfy { $0 >= 48 && $0 <= 57 }
    }

    /// Free text: not empty, at most `max` characters and at most 4 bytes a character (so a
    /// "character" of megabytes of combining marks is refused), no control characters.
    public static func text(_ text: String, _ field: String, max: Int, allowEmpty: Bool = false) throws(InvalidBody) {
        guard allowEmpty || !text.isEmpty else { throw InvalidBody("\(field) is empty") }
        guard text.utf8.count <= max * 4, text.unicodeScalars.count <= max * 2, text.count <= max else {
            throw InvalidBody("\(field) is longer than \(max) characters")
        }
        guard !text.unicodeScalars.contains(where: isControl) else {
            throw InvalidBody("\(field) contains a control character")
        }
    }

    /// An identifier an upstream system assigns (申請番号, 収納番号, 口座参照): 1 to `max` bytes of
    /// printable ASCII.
    public static func reference(_ text: String, _ field: String, max: Int) throws(InvalidBody) {
        guard !text.isEmpty, text.utf8.count <= max, text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
            throw InvalidBody("\(field) is not 1 to \(max) printable ASCII characters")
        }
    }

    /// C0 and C1 control characters and DEL (tab, newline and the like included: no field koki
    /// takes is multi-line).
    public static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7f...0x9f).contains(scalar.value)
    }

    /// EVENTS.md: an event about a person names their 宛名番号 (10 digits) and is keyed by it,
    /// which keeps one person's events in order on one partition.
    public static func person(_ atenaNo: String, key: String?) throws(InvalidBody) {
        guard digits(atenaNo, count: 10...10) else { throw InvalidBody("atenaNo is not 10 digits") }
        if let key, key != atenaNo { throw InvalidBody("the Kafka key is not the event's atenaNo") }
    }

    public static func householdNo(_ text: String, _ field: String = "householdNo") throws(InvalidBody) {
        guard digits(text, count: 1...20) else { throw InvalidBody("\(field) is not 1 to 20 digits") }
    }

    static func address(_ address: ResidentChange.Address, _ field: String) throws(InvalidBody) {
        if let postal = address.postalCode, !digits(postal, count: 7...7) {
            throw InvalidBody("\(field).postalCode is not 7 digits")
        }
        if let city = address.cityCode, !LocalGovernmentCode.isValid(city) {
            throw InvalidBody("\(field).cityCode is not a valid 地方公共団体コード")
        }
        if let prefecture = address.prefecture { try text(prefecture, "\(field).prefecture", max: 10, allowEmpty: true) }
        if let line = address.line { try text(line, "\(field).line", max: 300, allowEmpty: true) }
        if let katagaki = address.katagaki { try text(katagaki, "\(field).katagaki", max: 300, allowEmpty: true) }
        if let starts = address.startsOn { try date(starts, "\(field).startsOn") }
    }
}

extension ResidentChange: ValidatedBody {
    public func validate(key: String?) throws(InvalidBody) {
        try InboundRules.person(atenaNo, key: key)
        try InboundRules.householdNo(householdNo)
        if let myNumber {
            guard InboundRules.digits(myNumber, count: 12...12) else { throw InvalidBody("myNumber is not 12 digits") }
            guard MyNumber(myNumber) != nil else { throw InvalidBody("myNumber fails its check digit") }
        }
        let p = person
        try InboundRules.date(change.effectiveDate, "change.effectiveDate")
        if let notified = change.notifiedDate { try InboundRules.date(notified, "change.notifiedDate") }
        try InboundRules.date(p.birthDate, "person.birthDate")
        guard p.birthDate <= change.effectiveDate else { throw InvalidBody("person.birthDate is after change.effectiveDate") }
        try InboundRules.text(p.nameKanji, "person.nameKanji", max: 100)
        try InboundRules.text(p.nameKana, "person.nameKana", max: 100)
        try InboundRules.address(p.address, "person.address")
        if let previous = p.previousAddress { try InboundRules.address(previous, "person.previousAddress") }
        if let next = p.nextAddress { try InboundRules.address(next, "person.nextAddress") }
        if let death = p.deathDate {
            try InboundRules.date(death, "person.deathDate")
            guard death >= p.birthDate else { throw InvalidBody("person.deathDate is before person.birthDate") }
        }
    }

    /// The rules that depend on the `ce_type`.
    public func validate(kind: Kind) throws(InvalidBody) {
        switch kind {
        case .movedIn where person.previousAddress == nil:
            throw InvalidBody("person.previousAddress is required on resident.moved-in")
        case .movedOut where person.nextAddress == nil:
            throw InvalidBody("person.nextAddress is required on resident.moved-out")
        default:
            break
        }
    }
}

extension PublicAssistanceNotice: ValidatedBody {
    public func validate(key: String?) throws(InvalidBody) {
        try InboundRules.person(atenaNo, key: key)
        if let householdNo { try InboundRules.householdNo(householdNo) }
        try InboundRules.text(caseNo, "caseNo", max: 40)
        try InboundRules.date(effectiveDate, "effectiveDate")
    }
}

extension CounterApplication: ValidatedBody {
    public func validate(key: String?) throws(InvalidBody) {
        try InboundRules.person(atenaNo, key: key)
        try InboundRules.text(applicationNo, "applicationNo", max: 40)
        try InboundRules.date(receivedDate, "receivedDate")
    }
}

extension DisabilityCertification: ValidatedBody {
    public func validate(key: String?) throws(InvalidBody) {
        try InboundRules.date(certifiedDate, "certifiedDate")
        try InboundRules.text(grade, "grade", max: 100)
    }
}

extension EffectiveDateOnly: ValidatedBody {
    public func validate(key: String?) throws(InvalidBody) {
        try InboundRules.date(effectiveDate, "effectiveDate")
    }
}

extension SpecialAddressNotice: ValidatedBody {
    public func validate(key: String?) throws(InvalidBody) {
        try InboundRules.date(effectiveDate, "effectiveDate")
        try InboundRules.text(facilityName, "facilityName", max: 200)
        try InboundRules.text(previousInsurer, "previousInsurer", max: 200)
    }
}

extension FormerDependentNotice: ValidatedBody {
    public func validate(key: String?) throws(InvalidBody) {
        try InboundRules.text(insurerName, "insurerName", max: 200)
        try InboundRules.date(dependentUntil, "dependentUntil")
    }
}

extension PaymentMethodChangeNotice: ValidatedBody {
    public func validate(key: String?) throws(InvalidBody) {
        try InboundRules.accountReference(bankAccountRef)
        try InboundRules.date(effectiveDate, "effectiveDate")
    }
}

/// A 口座 reference: the counter system's handle on an account, never the account itself.
extension InboundRules {
    public static func accountReference(_ text: String) throws(InvalidBody) {
        try reference(text, "bankAccountRef", max: 64)
    }
}

extension HighCostMedicalApplication: ValidatedBody {
    public func validate(key: String?) throws(InvalidBody) {
        try InboundRules.accountReference(bankAccountRef)
    }
}

extension FuneralExpensesApplication: ValidatedBody {
    public func validate(key: String?) throws(InvalidBody) {
        guard InboundRules.digits(deceasedAtenaNo, count: 10...10) else { throw InvalidBody("deceasedAtenaNo is not 10 digits") }
        try InboundRules.date(funeralDate, "funeralDate")
        try InboundRules.accountReference(bankAccountRef)
    }
}

extension PremiumReductionNotice: ValidatedBody {
    public func validate(key: String?) throws(InvalidBody) {
        try InboundRules.year(fiscalYear, "fiscalYear")
        try InboundRules.text(reason, "reason", max: 200)
        guard (0...100).contains(reductionPercent) else { throw InvalidBody("reductionPercent is not between 0 and 100") }
        try InboundRules.date(decidedDate, "decidedDate")
    }
}

extension EnrollmentNotice: ValidatedBody {
    public func validate(key: String?) throws(InvalidBody) {
        try InboundRules.person(atenaNo, key: key)
        try InboundRules.text(program, "program", max: 200)
        try InboundRules.date(effectiveDate, "effectiveDate")
    }
}

extension BusinessDay: ValidatedBody {
    public func validate(key: String?) throws(InvalidBody) {
        try InboundRules.date(date, "date")
    }
}

extension IncomeRecord: ValidatedBody {
    public func validate(key: String?) throws(InvalidBody) {
        try InboundRules.person(atenaNo, key: key)
        try InboundRules.year(incomeYear, "incomeYear")
        try InboundRules.yen(totalIncome, "totalIncome")
        try InboundRules.yen(totalIncomeForAssessment, "totalIncomeForAssessment")
        try InboundRules.yen(publicPensionIncome, "publicPensionIncome")
        try InboundRules.yen(salaryIncome, "salaryIncome")
        try InboundRules.yen(otherIncome, "otherIncome")
        try InboundRules.yen(taxableIncome, "taxableIncome")
    }
}

extension PensionDeductionTarget: ValidatedBody {
    public func validate(key: String?) throws(InvalidBody) {
        try InboundRules.person(atenaNo, key: key)
        try InboundRules.year(fiscalYear, "fiscalYear")
        try InboundRules.yen(pensionAnnualAmount, "pensionAnnualAmount")
        try InboundRules.yen(pensionPerPayment, "pensionPerPayment")
        try InboundRules.yen(longTermCarePremiumPerPayment, "longTermCarePremiumPerPayment")
    }
}

extension PensionRequestResult: ValidatedBody {
    public func validate(key: String?) throws(InvalidBody) {
        try InboundRules.person(atenaNo, key: key)
        try InboundRules.year(fiscalYear, "fiscalYear")
        try InboundRules.reference(requestId, "requestId", max: 64)
        if let reason { try InboundRules.reference(reason, "reason", max: 64) }
        let amounts = amounts ?? []
        guard amounts.count <= 12 else { throw InvalidBody("amounts has more than 12 entries") }
        for amount in amounts {
            guard (1...12).contains(amount.month) else { throw InvalidBody("amounts[].month is out of range") }
            try InboundRules.yen(amount.amount, "amounts[].amount", maximum: PaymentRecord.maxAmount)
        }
        guard Set(amounts.map(\.month)).count == amounts.count else { throw InvalidBody("amounts[].month repeats a month") }
        guard accepted || amounts.isEmpty else { throw InvalidBody("a refused request carries no amounts") }
    }
}

extension PaymentRecord: ValidatedBody {
    /// A single payment of premiums: 1 to 1 億円.
    public static let maxAmount = 100_000_000

    public func validate(key: String?) throws(InvalidBody) {
        try InboundRules.person(atenaNo, key: key)
        try InboundRules.reference(paymentId, "paymentId", max: 64)
        try InboundRules.yen(amount, "amount", minimum: 1, maximum: Self.maxAmount)
        if let fiscalYear { try InboundRules.year(fiscalYear, "fiscalYear") }
        if let installmentNo, !(1...20).contains(installmentNo) { throw InvalidBody("installmentNo is out of range") }
        guard installmentNo == nil || fiscalYear != nil else { throw InvalidBody("installmentNo needs fiscalYear") }
        try InboundRules.date(paidOn, "paidOn", in: InboundRules.paymentDates)
        if let creditedOn { try InboundRules.date(creditedOn, "creditedOn", in: InboundRules.paymentDates) }
    }
}

extension ResidentUpdate: ValidatedBody {
    public func validate(key: String?) throws(InvalidBody) {
        try InboundRules.person(atenaNo, key: key)
        if let householdNo { try InboundRules.householdNo(householdNo) }
        if let previousHouseholdNo { try InboundRules.householdNo(previousHouseholdNo, "previousHouseholdNo") }
        try InboundRules.date(effectiveDate, "effectiveDate", in: InboundRules.derived)
        try InboundRules.date(asOf, "asOf", in: InboundRules.derived)
    }
}
