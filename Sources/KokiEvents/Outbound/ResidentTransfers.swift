import KokiBase

/// koki's outbound contract for what the resident worker derives. Published as AsyncAPI
/// with JSON Schemas; the relay's transfer policy decides which fields each destination
/// receives.
public enum TransferType {
    /// To the insurer (`transfer.koiki.v1`).
    public static let qualificationAcquired = "koiki.qualification-acquired"
    public static let qualificationLost = "koiki.qualification-lost"
    public static let qualificationChanged = "koiki.qualification-changed"
    /// 住基情報 (世帯単位): the household's current members.
    public static let residentRecord = "koiki.resident-record"
    /// 住登外情報.
    public static let nonresidentRecord = "koiki.nonresident-record"
    /// 年齢到達予定者.
    public static let age75Upcoming = "koiki.age-75-upcoming"
    /// 資格確認書 issuance.
    public static let certificateIssued = "koiki.certificate-issued"

    /// To a department, about a person enrolled with it.
    public static let departmentQualificationAcquired = "qualification.acquired"
    public static let departmentQualificationLost = "qualification.lost"
    public static let departmentQualificationChanged = "qualification.changed"
    /// The person's qualification when they enrol, so the department starts from the truth.
    public static let departmentQualificationCurrent = "qualification.current"
}

/// One qualification period as transfers show it (dates `YYYY-MM-DD`, reasons from the
/// `koki person` vocabulary).
public struct PeriodBody: Codable, Sendable, Hashable {
    public let acquiredOn: LocalDate
    public let acquisitionReason: String
    public let lostOn: LocalDate?
    public let lossReason: String?

    public init(acquiredOn: LocalDate, acquisitionReason: String, lostOn: LocalDate?, lossReason: String?) {
        self.acquiredOn = acquiredOn
        self.acquisitionReason = acquisitionReason
        self.lostOn = lostOn
        self.lossReason = lossReason
    }

    enum CodingKeys: String, CodingKey { case acquiredOn, acquisitionReason, lostOn, lossReason }

    // Nulls are written out: a consumer reads `lostOn: null` as "still insured".
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(acquiredOn, forKey: .acquiredOn)
        try container.encode(acquisitionReason, forKey: .acquisitionReason)
        try container.encode(lostOn, forKey: .lostOn)
        try container.encode(lossReason, forKey: .lossReason)
    }
}

/// A qualification acquired, lost or changed (資格届出 to the insurer; a department's copy).
public struct QualificationTransfer: Encodable, Sendable {
    public let atenaNo: String
    /// 被保険者番号.
    public let insuredNumber: String
    /// The period after the change; nil when a late fact removed it.
    public let period: PeriodBody?
    /// The period before the change, for `changed`.
    public let previous: PeriodBody?
    /// The business date the change was computed for.
    public let asOf: LocalDate

    public init(atenaNo: String, insuredNumber: String, period: PeriodBody?, previous: PeriodBody?, asOf: LocalDate) {
        self.atenaNo = atenaNo
        self.insuredNumber = insuredNumber
        self.period = period
        self.previous = previous
        self.asOf = asOf
    }
}

/// The person's periods when they enrol with a department.
public struct QualificationSnapshot: Encodable, Sendable {
    public let atenaNo: String
    public let insuredNumber: String?
    public let program: String
    public let periods: [PeriodBody]
    public let asOf: LocalDate

    public init(atenaNo: String, insuredNumber: String?, program: String, periods: [PeriodBody], asOf: LocalDate) {
        self.atenaNo = atenaNo
        self.insuredNumber = insuredNumber
        self.program = program
        self.periods = periods
        self.asOf = asOf
    }
}

/// One person in 住基情報 / 住登外情報.
public struct ResidentRecordMember: Encodable, Sendable {
    public let atenaNo: String
    public let myNumber: String?
    public let nameKanji: String
    public let nameKana: String
    public let sex: String
    public let birthDate: LocalDate
    public let relationshipToHead: String
    public let residentStatus: String
    public let address: ResidentChange.Address
    public let insured: Bool

    public init(atenaNo: String, myNumber: String?, nameKanji: String, nameKana: String, sex: String,
                birthDate: LocalDate, relationshipToHead: String, residentStatus: String,
                address: ResidentChange.Address, insured: Bool) {
        self.atenaNo = atenaNo
        self.myNumber = myNumber
        self.nameKanji = nameKanji
        self.nameKana = nameKana
        self.sex = sex
        self.birthDate = birthDate
        self.relationshipToHead = relationshipToHead
        self.residentStatus = residentStatus
        self.address = address
        self.insured = insured
    }
}

/// 住基情報 (世帯単位): every current member of a household with an insured or soon-insured
/// person, sent on any change to it.
public struct ResidentRecordTransfer: Encodable, Sendable {
    public let householdNo: String
    public let asOf: LocalDate
    public let members: [ResidentRecordMember]

    public init(householdNo: String, asOf: LocalDate, members: [ResidentRecordMember]) {
        self.householdNo = householdNo
        self.asOf = asOf
        self.members = members
    }
}

/// 住登外情報: a person the city registered without residence (e.g. 住所地特例).
public struct NonresidentRecordTransfer: Encodable, Sendable {
    public let registeredOn: LocalDate
    public let person: ResidentRecordMember

    public init(registeredOn: LocalDate, person: ResidentRecordMember) {
        self.registeredOn = registeredOn
        self.person = person
    }
}

/// 年齢到達予定者: who turns 75 in the month after the business date.
public struct Age75UpcomingTransfer: Encodable, Sendable {
    public struct Person: Encodable, Sendable {
        public let atenaNo: String
        public let birthDate: LocalDate
        public let reachesOn: LocalDate

        public init(atenaNo: String, birthDate: LocalDate, reachesOn: LocalDate) {
            self.atenaNo = atenaNo
            self.birthDate = birthDate
            self.reachesOn = reachesOn
        }
    }

    public let businessDate: LocalDate
    /// `YYYY-MM`.
    public let month: String
    public let people: [Person]

    public init(businessDate: LocalDate, month: String, people: [Person]) {
        self.businessDate = businessDate
        self.month = month
        self.people = people
    }
}

/// 資格確認書: one per new qualification period, for the insurer to print and send.
public struct CertificateIssuedTransfer: Encodable, Sendable {
    public let atenaNo: String
    public let insuredNumber: String
    public let validFrom: LocalDate

    public init(atenaNo: String, insuredNumber: String, validFrom: LocalDate) {
        self.atenaNo = atenaNo
        self.insuredNumber = insuredNumber
        self.validFrom = validFrom
    }
}

/// `koki.resident-update` on `koki.resident-updates.v1`: a person's qualification or
/// household changed, so the premium worker recomputes their households.
public struct ResidentUpdate: Codable, Sendable {
    public static let type = "koki.resident-update"

    public let atenaNo: String
    public let householdNo: String?
    public let previousHouseholdNo: String?
    /// The earliest date the change touches (its effective date or the period's edge).
    public let effectiveDate: LocalDate
    public let asOf: LocalDate

    public init(atenaNo: String, householdNo: String?, previousHouseholdNo: String?, effectiveDate: LocalDate, asOf: LocalDate) {
        self.atenaNo = atenaNo
        self.householdNo = householdNo
        self.previousHouseholdNo = previousHouseholdNo
        self.effectiveDate = effectiveDate
        self.asOf = asOf
    }
}
