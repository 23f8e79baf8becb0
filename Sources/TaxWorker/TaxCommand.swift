import KokiBase
import KokiEvents
import WorkerRuntime

/// An inbound event for the tax worker, decoded and validated.
enum TaxCommand {
    case income(IncomeRecord, IncomeRecord.Kind)
    case pensionTarget(PensionDeductionTarget)
    /// The 年金保険者's answer to a 特別徴収 request koki sent.
    case requestResult(PensionRequestResult)
    case exemption(CounterApplication, PremiumReductionNotice)
    case formerDependent(CounterApplication, FormerDependentNotice)
    /// 口座振替 instead of 特別徴収, on request.
    case paymentMethodChange(CounterApplication, PaymentMethodChangeNotice)
    case residentUpdate(ResidentUpdate)
    /// The union's 賦課 (authoritative for money).
    case unionAssessment(UnionAssessmentDecision)
    case clock(LocalDate)
    /// A counter application the resident worker handles.
    case notMine

    var atenaNo: String? {
        switch self {
        case .income(let record, _): record.atenaNo
        case .pensionTarget(let target): target.atenaNo
        case .requestResult(let result): result.atenaNo
        case .exemption(let application, _), .formerDependent(let application, _), .paymentMethodChange(let application, _):
            application.atenaNo
        case .residentUpdate(let update): update.atenaNo
        case .unionAssessment(let decision): decision.atenaNo
        case .clock, .notMine: nil
        }
    }

    static let acceptedTypes: Set<String> = Set(IncomeRecord.Kind.allCases.map(\.rawValue)
        + [PensionDeductionTarget.type, PensionRequestResult.type, ResidentUpdate.type, BusinessDay.type, UnionDecision.assessmentDecided,
           UnionDecision.qualificationDecided]
        + CounterApplication.Kind.allCases.map(\.rawValue))

    /// Decodes and validates by the contract's shared rules (`InboundRules`), the same the
    /// resident and payment workers hold the same events to.
    init(_ event: InboundEvent) throws(Rejection) {
        if let kind = IncomeRecord.Kind(rawValue: event.type) {
            self = .income(try event.decodeValid(IncomeRecord.self), kind)
        } else if event.type == PensionDeductionTarget.type {
            self = .pensionTarget(try event.decodeValid(PensionDeductionTarget.self))
        } else if event.type == PensionRequestResult.type {
            self = .requestResult(try event.decodeValid(PensionRequestResult.self))
        } else if let kind = CounterApplication.Kind(rawValue: event.type) {
            switch kind {
            case .premiumReduction:
                self = .exemption(try event.decodeValid(CounterApplication.self), try event.decodeValid(PremiumReductionNotice.self))
            case .formerDependent:
                self = .formerDependent(try event.decodeValid(CounterApplication.self), try event.decodeValid(FormerDependentNotice.self))
            case .paymentMethodChange:
                self = .paymentMethodChange(try event.decodeValid(CounterApplication.self),
                                            try event.decodeValid(PaymentMethodChangeNotice.self))
            default:
                // Held to the rules all the same: the resident worker would refuse it, and both
                // groups decide one event alike.
                _ = try event.decodeValid(CounterApplication.self)
                self = .notMine
            }
        } else if event.type == UnionDecision.assessmentDecided {
            self = .unionAssessment(try event.decodeValid(UnionAssessmentDecision.self))
        } else if event.type == UnionDecision.qualificationDecided {
            // The resident worker keeps 資格; held to the same rules here so both groups decide alike.
            _ = try event.decodeValid(UnionQualificationDecision.self)
            self = .notMine
        } else if event.type == ResidentUpdate.type {
            self = .residentUpdate(try event.decodeValid(ResidentUpdate.self))
        } else if event.type == BusinessDay.type {
            self = .clock(try event.decodeValid(BusinessDay.self).date)
        } else {
            throw Rejection(.unknownType, "ce_type is not one the tax worker knows")
        }
    }
}
