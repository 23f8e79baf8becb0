import KokiBase

/// One resident-register change (住民異動) as the 資格 rules read it.
public struct ResidenceChange: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// 転入. From another Saitama city the person keeps the same insurer: no new
        /// acquisition, the residence in Saitama simply continues.
        case movedIn(fromSaitama: Bool)
        /// 転出: the effective date is the last day here, unless the new address starts
        /// that same day (then the day before is).
        case movedOut(toSaitama: Bool, newAddressStartsSameDay: Bool)
        /// 出生.
        case born
        /// Any other change (転居, 世帯変更, 氏名変更, 職権修正, 住登外登録, 死亡): the
        /// snapshot tells whether the person is registered as living here. When it is the
        /// first change the city knows, a resident has lived here since before it.
        case snapshot(livesHere: Bool)
    }

    public let effectiveDate: LocalDate
    /// Arrival order (履歴番号): breaks ties between changes of the same day.
    public let order: Int
    public let kind: Kind

    public init(effectiveDate: LocalDate, order: Int, kind: Kind) {
        self.effectiveDate = effectiveDate
        self.order = order
        self.kind = kind
    }
}

/// Turns a person's resident-register changes into the days they lived in Saitama.
/// The changes are read in effective-date order, whatever order they arrived in.
public enum ResidenceTimeline {
    public static func saitamaResidence(_ changes: [ResidenceChange]) -> [DayRange] {
        var spans: [DayRange] = []
        var lastLeftForSaitama = false
        var open: LocalDate?? = nil  // .some(nil): here since before anything the city knows
        var first = true
        for change in changes.sorted(by: { ($0.effectiveDate, $0.order) < ($1.effectiveDate, $1.order) }) {
            defer { first = false }
            let day = change.effectiveDate
            switch change.kind {
            case .movedIn(let fromSaitama):
                guard open == nil else { continue }
                if fromSaitama && first {
                    open = .some(nil)
                } else if fromSaitama && lastLeftForSaitama, let last = spans.popLast() {
                    open = .some(last.from)
                } else {
                    open = .some(day)
                }
            case .born:
                if open == nil { open = .some(day) }
            case .snapshot(let livesHere):
                if open == nil && first && livesHere { open = .some(nil) }
            case .movedOut(let toSaitama, let sameDay):
                let through = sameDay ? day.adding(days: -1) : day
                let from: LocalDate?
                if let start = open {
                    from = start
                } else if first {
                    from = nil
                } else {
                    continue
                }
                open = nil
                lastLeftForSaitama = toSaitama
                if from.map({ through >= $0 }) ?? true { spans.append(DayRange(from: from, through: through)) }
            }
        }
        if let start = open { spans.append(DayRange(from: start, through: nil)) }
        return spans
    }
}

/// A fact that starts or stops on a date (生活保護 started/ended, 障害認定/撤回,
/// 住所地特例 start/end).
public struct Switch: Sendable, Hashable {
    public let date: LocalDate
    public let order: Int
    /// On from `date`; off means `date` is the first day without it.
    public let on: Bool

    public init(date: LocalDate, order: Int, on: Bool) {
        self.date = date
        self.order = order
        self.on = on
    }
}

extension DayRange {
    /// The spans a series of switches describes, read in date order. An "off" with no
    /// "on" before it means the fact held since before anything the city knows.
    public static func spans(_ switches: [Switch]) -> [DayRange] {
        var spans: [DayRange] = []
        var open: LocalDate?? = nil
        var first = true
        for change in switches.sorted(by: { ($0.date, $0.order) < ($1.date, $1.order) }) {
            defer { first = false }
            if change.on {
                if open == nil { open = .some(change.date) }
            } else if let start = open {
                open = nil
                if start.map({ change.date > $0 }) ?? true {
                    spans.append(DayRange(from: start, through: change.date.adding(days: -1)))
                }
            } else if first {
                spans.append(DayRange(from: nil, through: change.date.adding(days: -1)))
            }
        }
        if let start = open { spans.append(DayRange(from: start, through: nil)) }
        return spans
    }
}
