import KokiBase
import KokiEvents
import WorkerRuntime

/// An inbound event for the tax worker, decoded and validated.
enum TaxCommand {
    case income(IncomeRecord, IncomeRecord.Kind)
    case pensionTarget(PensionDeductionTarget)
    case exemption(CounterApplication, PremiumReductionNotice)
    case formerDependent(CounterApplication, FormerDependentNotice)
    case residentUpdate(ResidentUpdate)
    case clock(LocalDate)
    /// A counter application the resident worker handles.
    case notMine

    var atenaNo: String? {
        switch self {
        case .income(let record, _): record.atenaNo
        case .pensionTarget(let target): target.atenaNo
        case .exemption(let application, _), .formerDependent(let application, _): application.atenaNo
        case .residentUpdate(let update): update.atenaNo
        case .clock, .notMine: nil
        }
    }

    static let acceptedTypes: Set<String> = Set(IncomeRecord.Kind.allCases.map(\.rawValue)
        + [PensionDeductionTarget.type, ResidentUpdate.type, BusinessDay.type]
        + CounterApplication.Kind.allCases.map(\.rawValue))

    init(_ event: InboundEvent) throws(Rejection) {
        if let kind = IncomeRecord.Kind(rawValue: event.type) {
            let record = try event.decode(IncomeRecord.self)
            try event.checkPerson(record.atenaNo)
            guard (1990...2200).contains(record.incomeYear) else { throw Rejection(.validation, "incomeYear is out of range") }
            for (value, field) in [(record.totalIncome, "totalIncome"), (record.totalIncomeForAssessment, "totalIncomeForAssessment"),
                                   (record.publicPensionIncome, "publicPensionIncome"), (record.salaryIncome, "salaryIncome"),
                                   (record.otherIncome, "otherIncome"), (record.taxableIncome, "taxableIncome")] {
                guard value >= 0 else { throw Rejection(.validation, "\(field) must not be negative") }
                guard value <= 100_000_000_000 else { throw Rejection(.validation, "\(field) is out of range") }
            }
            self = .income(record, kind)
        } else if event.type == PensionDeductionTarget.type {
            let target = try event.decode(PensionDeductionTarget.self)
            try event.checkPerson(target.atenaNo)
            guard (2000...2200).contains(target.fiscalYear) else { throw Rejection(.validation, "fiscalYear is out of range") }
            for (value, field) in [(target.pensionAnnualAmount, "pensionAnnualAmount"), (target.pensionPerPayment, "pensionPerPayment"),
                                   (target.longTermCarePremiumPerPayment, "longTermCarePremiumPerPayment")] where value < 0 {
                throw Rejection(.validation, "\(field) must not be negative")
            }
            self = .pensionTarget(target)
        } else if let kind = CounterApplication.Kind(rawValue: event.type) {
            switch kind {
            case .premiumReduction:
                let application = try event.decode(CounterApplication.self)
                try event.checkPerson(application.atenaNo)
                let body = try event.decode(PremiumReductionNotice.self)
                guard (0...100).contains(body.reductionPercent) else {
                    throw Rejection(.validation, "reductionPercent is not between 0 and 100")
                }
                guard (2000...2200).contains(body.fiscalYear) else { throw Rejection(.validation, "fiscalYear is out of range") }
                guard !body.reason.isEmpty, body.reason.count <= 200 else {
                    throw Rejection(.validation, "reason is empty or longer than 200 characters")
                }
                self = .exemption(application, body)
            case .formerDependent:
                let application = try event.decode(CounterApplication.self)
                try event.checkPerson(application.atenaNo)
                let body = try event.decode(FormerDependentNotice.self)
                guard !body.insurerName.isEmpty, body.insurerName.count <= 200 else {
                    throw Rejection(.validation, "insurerName is empty or longer than 200 characters")
                }
                self = .formerDependent(application, body)
            default:
                self = .notMine
            }
        } else if event.type == ResidentUpdate.type {
            self = .residentUpdate(try event.decode(ResidentUpdate.self))
        } else if event.type == BusinessDay.type {
            self = .clock(try event.decode(BusinessDay.self).date)
        } else {
            throw Rejection(.unknownType, "ce_type is not one the tax worker knows")
        }
    }
}
