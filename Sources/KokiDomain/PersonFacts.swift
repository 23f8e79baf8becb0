import KokiBase

/// A span of days, `from` through `through` (inclusive); open-ended when `through` is nil.
public struct DayRange: Sendable, Hashable {
    public let from: LocalDate?
    public let through: LocalDate?

    public init(from: LocalDate?, through: LocalDate?) {
        self.from = from
        self.through = through
    }

    public func contains(_ day: LocalDate) -> Bool {
        (from.map { day >= $0 } ?? true) && (through.map { day <= $0 } ?? true)
    }
}

/// What the city knows about one person that decides 資格 (qualification). Every fact
/// carries its effective date, so the result depends on dates, not on the order in
/// which the events arrived.
public struct PersonFacts: Sendable, Hashable {
    public var birthDate: LocalDate
    public var deathDate: LocalDate?
    /// Days the person lived in Saitama (in this city or another one in the prefecture).
    public var saitamaResidence: [DayRange]
    /// 住所地特例: days the person lived in a facility in another prefecture while staying
    /// insured here.
    public var specialAddress: [DayRange]
    /// 障害認定: from the 認定日 through the day before the withdrawal takes effect.
    public var disabilityCertified: [DayRange]
    /// 生活保護 for the person's household: from the start through the day before it ends.
    public var publicAssistance: [DayRange]
    /// Days within `publicAssistance` when it was suspended (停止): not excluded then.
    public var assistanceSuspended: [DayRange]

    public init(birthDate: LocalDate, deathDate: LocalDate? = nil, saitamaResidence: [DayRange] = [],
                specialAddress: [DayRange] = [], disabilityCertified: [DayRange] = [],
                publicAssistance: [DayRange] = [], assistanceSuspended: [DayRange] = []) {
        self.birthDate = birthDate
        self.deathDate = deathDate
        self.saitamaResidence = saitamaResidence
        self.specialAddress = specialAddress
        self.disabilityCertified = disabilityCertified
        self.publicAssistance = publicAssistance
        self.assistanceSuspended = assistanceSuspended
    }
}

/// Why a qualification period starts (the vocabulary `koki person --json` prints).
public enum AcquisitionReason: String, Sendable, Hashable, Codable {
    case age75 = "age-75"
    case movedIn = "moved-in"
    case disabilityCertified = "disability-certified"
    case assistanceEnded = "assistance-ended"
}

/// Why it ends.
public enum LossReason: String, Sendable, Hashable, Codable {
    case movedOut = "moved-out"
    case died
    case assistanceStarted = "assistance-started"
    case disabilityWithdrawn = "disability-withdrawn"
}

/// One period of being insured (被保険者): 取得日 with its reason, and 喪失日 — the first
/// day no longer insured — with its reason, or nil while it lasts.
public struct QualificationPeriod: Sendable, Hashable {
    public let acquiredOn: LocalDate
    public let acquisitionReason: AcquisitionReason
    public let lostOn: LocalDate?
    public let lossReason: LossReason?

    public init(acquiredOn: LocalDate, acquisitionReason: AcquisitionReason, lostOn: LocalDate?, lossReason: LossReason?) {
        self.acquiredOn = acquiredOn
        self.acquisitionReason = acquisitionReason
        self.lostOn = lostOn
        self.lossReason = lossReason
    }
}
