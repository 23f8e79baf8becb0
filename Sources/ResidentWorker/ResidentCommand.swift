import KokiBase
import KokiDomain
import KokiEvents
import WorkerRuntime

/// An inbound event, decoded and validated: what the resident worker will write.
enum ResidentCommand {
    case resident(ResidentChange, ResidentChange.Kind)
    case assistance(PublicAssistanceNotice, PublicAssistanceNotice.Kind)
    case disability(CounterApplication, kind: String, effectiveDate: LocalDate, grade: String?)
    case specialAddress(CounterApplication, SpecialAddressNotice, started: Bool)
    case formerDependent(CounterApplication, FormerDependentNotice)
    /// A benefit application forwarded to the insurer as received.
    case forward(CounterApplication, CounterApplication.Kind)
    case enrollment(EnrollmentNotice, EnrollmentNotice.Kind)
    /// The union's 資格 decision: its 被保険者番号, and its periods to check koki's against (突合).
    case unionQualification(UnionQualificationDecision)
    case clock(LocalDate)
    /// An application another worker handles (減免, 口座振替): nothing to do here.
    case notMine

    /// The person the command is about, if any.
    var atenaNo: String? {
        switch self {
        case .resident(let change, _): change.atenaNo
        case .assistance(let notice, _): notice.atenaNo
        case .disability(let application, _, _, _), .specialAddress(let application, _, _), .formerDependent(let application, _),
             .forward(let application, _):
            application.atenaNo
        case .enrollment(let notice, _): notice.atenaNo
        case .unionQualification(let decision): decision.atenaNo
        case .clock, .notMine: nil
        }
    }
}

extension ResidentCommand {
    /// Decodes and validates by the contract's shared rules (`InboundRules`); a violation names
    /// the field and the rule, never the value.
    init(_ event: InboundEvent) throws(Rejection) {
        if let kind = ResidentChange.Kind(rawValue: event.type) {
            let change: ResidentChange
            if let plain = ResidentChange(plainJSON: event.data) { change = plain } else { change = try event.decode(ResidentChange.self) }
            do {
                try change.validate(key: event.key)
                try change.validate(kind: kind)
            } catch { throw Rejection(.validation, error.reason) }
            self = .resident(change, kind)
        } else if let kind = PublicAssistanceNotice.Kind(rawValue: event.type) {
            self = .assistance(try event.decodeValid(PublicAssistanceNotice.self), kind)
        } else if let kind = CounterApplication.Kind(rawValue: event.type) {
            let application = try event.decodeValid(CounterApplication.self)
            switch kind {
            case .disabilityCertification:
                let body = try event.decodeValid(DisabilityCertification.self)
                self = .disability(application, kind: "certified", effectiveDate: body.certifiedDate, grade: body.grade)
            case .disabilityWithdrawal:
                let body = try event.decodeValid(EffectiveDateOnly.self)
                self = .disability(application, kind: "withdrawn", effectiveDate: body.effectiveDate, grade: nil)
            case .specialAddressStarted, .specialAddressEnded:
                let body = try event.decodeValid(SpecialAddressNotice.self)
                self = .specialAddress(application, body, started: kind == .specialAddressStarted)
            case .formerDependent:
                self = .formerDependent(application, try event.decodeValid(FormerDependentNotice.self))
            case .highCostMedical:
                // Forwarded to the insurer: every field it carries is held to the rules first.
                _ = try event.decodeValid(HighCostMedicalApplication.self)
                self = .forward(application, kind)
            case .funeralExpenses:
                _ = try event.decodeValid(FuneralExpensesApplication.self)
                self = .forward(application, kind)
            case .premiumReduction, .paymentMethodChange:
                self = .notMine
            }
        } else if let kind = EnrollmentNotice.Kind(rawValue: event.type) {
            self = .enrollment(try event.decodeValid(EnrollmentNotice.self), kind)
        } else if event.type == UnionDecision.qualificationDecided {
            self = .unionQualification(try event.decodeValid(UnionQualificationDecision.self))
        } else if event.type == UnionDecision.assessmentDecided {
            // The tax worker keeps 賦課; held to the same rules here so both groups decide alike.
            _ = try event.decodeValid(UnionAssessmentDecision.self)
            self = .notMine
        } else if event.type == BusinessDay.type {
            self = .clock(try event.decodeValid(BusinessDay.self).date)
        } else {
            throw Rejection(.unknownType, "ce_type is not one the resident worker knows")
        }
    }

    /// Every `ce_type` the resident worker consumes.
    static let acceptedTypes: Set<String> = Set(
        ResidentChange.Kind.allCases.map(\.rawValue) + PublicAssistanceNotice.Kind.allCases.map(\.rawValue)
            + CounterApplication.Kind.allCases.map(\.rawValue) + EnrollmentNotice.Kind.allCases.map(\.rawValue)
            + [BusinessDay.type, UnionDecision.qualificationDecided, UnionDecision.assessmentDecided])
}
