import KokiBase
import KokiDomain

/// `koiki.decisions.v1` — the insurer's decisions (埼玉県後期高齢者医療広域連合), authoritative over
/// koki's own computation (EVENTS.md, DOMAIN.md "Who does what"). Key: the 宛名番号.
public enum UnionDecision {
    public static let topic = "koiki.decisions.v1"
    public static let assessmentDecided = "koiki.assessment-decided"
    public static let qualificationDecided = "koiki.qualification-decided"
    public static let certificateIssued = "koiki.certificate-issued"
    public static let types: Set<String> = [assessmentDecided, qualificationDecided, certificateIssued]
}

/// `koiki.assessment-decided`: the union's 賦課 of one 年度, a snapshot replacing the last.
public struct UnionAssessmentDecision: Codable, Sendable, Hashable {
    public struct Component: Codable, Sendable, Hashable {
        public let name: String
        public let perCapita: Int
        public let incomeShare: Int

        public init(name: String, perCapita: Int, incomeShare: Int) {
            self.name = name
            self.perCapita = perCapita
            self.incomeShare = incomeShare
        }
    }

    public let atenaNo: String
    public let insuredNo: String
    public let fiscalYear: Int
    public let revision: Int
    public let decidedOn: LocalDate
    /// `honsantei` | `correction` | `acquisition` | `loss` | `reduction`.
    public let reason: String
    /// What this city collects for the 年度.
    public let annualPremium: Int
    /// "0" | "20" | "50" | "70".
    public let reduction: String
    public let components: [Component]
    /// The months of the 年度 this city collects (1–12).
    public let collectingMonths: [Int]

    public static let reasons: Set<String> = ["honsantei", "correction", "acquisition", "loss", "reduction"]
    public static let reductions: Set<String> = ["0", "20", "50", "70"]

    /// koki's name for the reduction ("none" for "0").
    public var kokiReduction: String { reduction == "0" ? LowIncomeReduction.none.rawValue : reduction }

    public init(atenaNo: String, insuredNo: String, fiscalYear: Int, revision: Int, decidedOn: LocalDate, reason: String,
                annualPremium: Int, reduction: String, components: [Component], collectingMonths: [Int]) {
        (self.atenaNo, self.insuredNo, self.fiscalYear, self.revision, self.decidedOn) = (atenaNo, insuredNo, fiscalYear, revision, decidedOn)
        (self.reason, self.annualPremium, self.reduction, self.components, self.collectingMonths) =
            (reason, annualPremium, reduction, components, collectingMonths)
    }
}

extension UnionAssessmentDecision: ValidatedBody {
    public func validate(key: String?) throws(InvalidBody) {
        try InboundRules.person(atenaNo, key: key)
        guard InboundRules.digits(insuredNo, count: 8...8) else { throw InvalidBody("insuredNo is not 8 digits") }
        try InboundRules.year(fiscalYear, "fiscalYear")
        guard (1...100_000).contains(revision) else { throw InvalidBody("revision is out of range") }
        try InboundRules.date(decidedOn, "decidedOn")
        guard Self.reasons.contains(reason) else { throw InvalidBody("reason is not one the contract lists") }
        // A premium is capped by law (賦課限度額, well under 10,000,000 yen).
        try InboundRules.yen(annualPremium, "annualPremium", maximum: 10_000_000)
        guard Self.reductions.contains(reduction) else { throw InvalidBody("reduction is not 0, 20, 50 or 70") }
        guard components.count <= 8 else { throw InvalidBody("components has more than 8 entries") }
        for component in components {
            try InboundRules.text(component.name, "components.name", max: 40)
            try InboundRules.yen(component.perCapita, "components.perCapita", maximum: 10_000_000)
            try InboundRules.yen(component.incomeShare, "components.incomeShare", maximum: 10_000_000)
        }
        guard collectingMonths.count <= 12, Set(collectingMonths).count == collectingMonths.count,
              collectingMonths.allSatisfy({ (1...12).contains($0) }) else {
            throw InvalidBody("collectingMonths are not distinct months 1–12")
        }
    }
}

/// `koiki.qualification-decided`: 資格 as the union holds it — a snapshot of every period, and the
/// 負担割合 it decided.
public struct UnionQualificationDecision: Codable, Sendable, Hashable {
    public struct Period: Codable, Sendable, Hashable {
        public let acquiredOn: LocalDate
        public let acquisitionReason: String
        public let lostOn: LocalDate?
        public let lossReason: String?

        public init(acquiredOn: LocalDate, acquisitionReason: String, lostOn: LocalDate?, lossReason: String?) {
            (self.acquiredOn, self.acquisitionReason, self.lostOn, self.lossReason) = (acquiredOn, acquisitionReason, lostOn, lossReason)
        }
    }

    public struct Ratio: Codable, Sendable, Hashable {
        public let from: LocalDate
        /// 1, 2 or 3 (割).
        public let ratio: Int

        public init(from: LocalDate, ratio: Int) {
            self.from = from
            self.ratio = ratio
        }
    }

    public let atenaNo: String
    public let insuredNo: String
    public let decidedOn: LocalDate
    public let periods: [Period]
    public let burdenRatio: [Ratio]?

    public static let acquisitionReasons: Set<String> = ["age-75", "moved-in", "disability-certified", "assistance-ended", "special-address"]
    public static let lossReasons: Set<String> = ["died", "moved-out", "assistance-started", "disability-withdrawn", "other"]

    public init(atenaNo: String, insuredNo: String, decidedOn: LocalDate, periods: [Period], burdenRatio: [Ratio]?) {
        (self.atenaNo, self.insuredNo, self.decidedOn, self.periods, self.burdenRatio) = (atenaNo, insuredNo, decidedOn, periods, burdenRatio)
    }
}

extension UnionQualificationDecision: ValidatedBody {
    public func validate(key: String?) throws(InvalidBody) {
        try InboundRules.person(atenaNo, key: key)
        guard InboundRules.digits(insuredNo, count: 8...8) else { throw InvalidBody("insuredNo is not 8 digits") }
        try InboundRules.date(decidedOn, "decidedOn")
        guard periods.count <= 50 else { throw InvalidBody("periods has more than 50 entries") }
        for period in periods {
            try InboundRules.date(period.acquiredOn, "periods.acquiredOn")
            guard Self.acquisitionReasons.contains(period.acquisitionReason) else {
                throw InvalidBody("periods.acquisitionReason is not one the contract lists")
            }
            if let lostOn = period.lostOn {
                try InboundRules.date(lostOn, "periods.lostOn")
                guard lostOn > period.acquiredOn else { throw InvalidBody("periods.lostOn is not after acquiredOn") }
            }
            if let reason = period.lossReason, !Self.lossReasons.contains(reason) {
                throw InvalidBody("periods.lossReason is not one the contract lists")
            }
        }
        guard (burdenRatio?.count ?? 0) <= 50 else { throw InvalidBody("burdenRatio has more than 50 entries") }
        for ratio in burdenRatio ?? [] {
            try InboundRules.date(ratio.from, "burdenRatio.from")
            guard (1...3).contains(ratio.ratio) else { throw InvalidBody("burdenRatio.ratio is not 1, 2 or 3") }
        }
    }
}
