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
        case .clock, .notMine: nil
        }
    }
}

extension ResidentCommand {
    /// Decodes and validates; a violation names the field and the rule, never the value.
    init(_ event: InboundEvent) throws(Rejection) {
        if let kind = ResidentChange.Kind(rawValue: event.type) {
            let change: ResidentChange
            if let plain = ResidentChange(plainJSON: event.data) { change = plain } else { change = try event.decode(ResidentChange.self) }
            try Validate.resident(change, kind: kind, key: event.key)
            self = .resident(change, kind)
        } else if let kind = PublicAssistanceNotice.Kind(rawValue: event.type) {
            let notice = try event.decode(PublicAssistanceNotice.self)
            try event.checkPerson(notice.atenaNo)
            if let household = notice.householdNo { try Validate.householdNo(household) }
            try Validate.text(notice.caseNo, "caseNo", max: 40)
            try Validate.date(notice.effectiveDate, "effectiveDate")
            self = .assistance(notice, kind)
        } else if let kind = CounterApplication.Kind(rawValue: event.type) {
            let application = try event.decode(CounterApplication.self)
            try event.checkPerson(application.atenaNo)
            try Validate.text(application.applicationNo, "applicationNo", max: 40)
            try Validate.date(application.receivedDate, "receivedDate")
            switch kind {
            case .disabilityCertification:
                let body = try event.decode(DisabilityCertification.self)
                try Validate.date(body.certifiedDate, "certifiedDate")
                try Validate.text(body.grade, "grade", max: 100)
                self = .disability(application, kind: "certified", effectiveDate: body.certifiedDate, grade: body.grade)
            case .disabilityWithdrawal:
                let body = try event.decode(EffectiveDateOnly.self)
                try Validate.date(body.effectiveDate, "effectiveDate")
                self = .disability(application, kind: "withdrawn", effectiveDate: body.effectiveDate, grade: nil)
            case .specialAddressStarted, .specialAddressEnded:
                let body = try event.decode(SpecialAddressNotice.self)
                try Validate.date(body.effectiveDate, "effectiveDate")
                try Validate.text(body.facilityName, "facilityName", max: 200)
                try Validate.text(body.previousInsurer, "previousInsurer", max: 200)
                self = .specialAddress(application, body, started: kind == .specialAddressStarted)
            case .formerDependent:
                let body = try event.decode(FormerDependentNotice.self)
                try Validate.date(body.dependentUntil, "dependentUntil")
                try Validate.text(body.insurerName, "insurerName", max: 200)
                self = .formerDependent(application, body)
            case .highCostMedical, .funeralExpenses:
                self = .forward(application, kind)
            case .premiumReduction, .paymentMethodChange:
                self = .notMine
            }
        } else if let kind = EnrollmentNotice.Kind(rawValue: event.type) {
            let notice = try event.decode(EnrollmentNotice.self)
            try event.checkPerson(notice.atenaNo)
            try Validate.text(notice.program, "program", max: 200)
            try Validate.date(notice.effectiveDate, "effectiveDate")
            self = .enrollment(notice, kind)
        } else if event.type == BusinessDay.type {
            let day = try event.decode(BusinessDay.self)
            try Validate.date(day.date, "date")
            self = .clock(day.date)
        } else {
            throw Rejection(.unknownType, "ce_type is not one the resident worker knows")
        }
    }

    /// Every `ce_type` the resident worker consumes.
    static let acceptedTypes: Set<String> = Set(
        ResidentChange.Kind.allCases.map(\.rawValue) + PublicAssistanceNotice.Kind.allCases.map(\.rawValue)
            + CounterApplication.Kind.allCases.map(\.rawValue) + EnrollmentNotice.Kind.allCases.map(\.rawValue)
            + [BusinessDay.type])
}

/// The contract's rules beyond shape. Reasons name fields and rules only.
enum Validate {
    /// Dates koki accepts: no one alive was born before 1880, and nothing is dated after 2200.
    static let plausible = LocalDate(year: 1880, month: 1, day: 1)!...LocalDate(year: 2200, month: 12, day: 31)!

    static func date(_ date: LocalDate, _ field: String) throws(Rejection) {
        guard plausible.contains(date) else { throw Rejection(.validation, "\(field) is out of range") }
    }

    static func digits(_ text: String, count: ClosedRange<Int>) -> Bool {
        count.contains(text.utf8.count) && text.utf8.allSatisfy { $0 >= 48 && $0 <= 57 }
    }

    static func householdNo(_ text: String) throws(Rejection) {
        guard digits(text, count: 1...20) else { throw Rejection(.validation, "householdNo is not 1 to 20 digits") }
    }

    static func text(_ text: String, _ field: String, max: Int) throws(Rejection) {
        guard !text.isEmpty else { throw Rejection(.validation, "\(field) is empty") }
        guard text.count <= max else { throw Rejection(.validation, "\(field) is longer than \(max) characters") }
    }

    static func resident(_ change: ResidentChange, kind: ResidentChange.Kind, key: String?) throws(Rejection) {
        try InboundEvent.checkPerson(change.atenaNo, key: key)
        try householdNo(change.householdNo)
        if let myNumber = change.myNumber {
            guard digits(myNumber, count: 12...12) else { throw Rejection(.validation, "myNumber is not 12 digits") }
            guard MyNumber(myNumber) != nil else { throw Rejection(.validation, "myNumber fails its check digit") }
        }
        let p = change.person
        try date(change.change.effectiveDate, "change.effectiveDate")
        if let notified = change.change.notifiedDate { try date(notified, "change.notifiedDate") }
        try date(p.birthDate, "person.birthDate")
        guard p.birthDate <= change.change.effectiveDate else {
            throw Rejection(.validation, "person.birthDate is after change.effectiveDate")
        }
        try text(p.nameKanji, "person.nameKanji", max: 100)
        try text(p.nameKana, "person.nameKana", max: 100)
        try address(p.address, "person.address")
        if let previous = p.previousAddress { try address(previous, "person.previousAddress") }
        if let next = p.nextAddress { try address(next, "person.nextAddress") }
        if let death = p.deathDate {
            try date(death, "person.deathDate")
            guard death >= p.birthDate else { throw Rejection(.validation, "person.deathDate is before person.birthDate") }
        }
        switch kind {
        case .movedIn where p.previousAddress == nil:
            throw Rejection(.validation, "person.previousAddress is required on resident.moved-in")
        case .movedOut where p.nextAddress == nil:
            throw Rejection(.validation, "person.nextAddress is required on resident.moved-out")
        default:
            break
        }
    }

    static func address(_ address: ResidentChange.Address, _ field: String) throws(Rejection) {
        if let postal = address.postalCode, !digits(postal, count: 7...7) {
            throw Rejection(.validation, "\(field).postalCode is not 7 digits")
        }
        if let city = address.cityCode, !LocalGovernmentCode.isValid(city) {
            throw Rejection(.validation, "\(field).cityCode is not a valid 地方公共団体コード")
        }
        if let line = address.line, line.count > 300 { throw Rejection(.validation, "\(field).line is too long") }
        if let katagaki = address.katagaki, katagaki.count > 300 { throw Rejection(.validation, "\(field).katagaki is too long") }
        if let starts = address.startsOn { try date(starts, "\(field).startsOn") }
    }
}
