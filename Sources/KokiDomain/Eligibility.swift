import KokiBase

/// 資格 — who is insured by 埼玉県後期高齢者医療広域連合, and from when (DOMAIN.md):
/// living in Saitama (or kept by 住所地特例) and aged 75 or more — from the 75th birthday
/// itself — or aged 65–74 with a 障害認定; not while the household receives 生活保護
/// (unless suspended); lost the day after death.
///
/// Pure: the business date is a parameter; nothing that happens after it counts.
public enum Eligibility {
    /// The person's qualification periods as known on `businessDate`.
    public static func periods(_ facts: PersonFacts, asOf businessDate: LocalDate) -> [QualificationPeriod] {
        let days = changeDays(facts).filter { $0 > facts.birthDate && $0 <= businessDate }.sorted()

        var periods: [QualificationPeriod] = []
        var open: (LocalDate, AcquisitionReason)? = nil
        // Nobody is insured before the 65th birthday, which is always among the changes:
        // the day before the first change is never insured.
        guard let first = days.first else { return [] }
        var before = state(facts, on: first.adding(days: -1))
        for day in days {
            let now = state(facts, on: day)
            if before.eligible != now.eligible {
                if now.eligible {
                    open = (day, acquisitionReason(facts, from: before, to: now))
                } else if let (start, reason) = open {
                    periods.append(QualificationPeriod(acquiredOn: start, acquisitionReason: reason, lostOn: day,
                                                       lossReason: lossReason(facts, from: before, to: now)))
                    open = nil
                }
            }
            before = now
        }
        if let (start, reason) = open {
            periods.append(QualificationPeriod(acquiredOn: start, acquisitionReason: reason, lostOn: nil, lossReason: nil))
        }
        return periods
    }

    /// The first day after `day` on which the person's eligibility may change (a
    /// birthday, a death, the edge of a period), or nil when nothing further is known.
    /// A worker re-checks the person when the business date reaches it.
    public static func nextChange(_ facts: PersonFacts, after day: LocalDate) -> LocalDate? {
        changeDays(facts).filter { $0 > day && $0 > facts.birthDate }.min()
    }

    /// Eligibility can only change on these days; between two of them it is constant.
    static func changeDays(_ facts: PersonFacts) -> Set<LocalDate> {
        var changes = Set<LocalDate>()
        changes.insert(facts.birthDate.birthday(65))
        changes.insert(facts.birthDate.birthday(75))
        if let death = facts.deathDate { changes.insert(death.adding(days: 1)) }
        for range in facts.saitamaResidence + facts.specialAddress + facts.disabilityCertified
            + facts.publicAssistance + facts.assistanceSuspended {
            if let from = range.from { changes.insert(from) }
            if let through = range.through { changes.insert(through.adding(days: 1)) }
        }
        return changes
    }

    struct State: Equatable {
        var alive: Bool
        var resident: Bool
        var aged75: Bool
        var certified: Bool
        var excluded: Bool

        var eligible: Bool { alive && resident && (aged75 || certified) && !excluded }
    }

    static func state(_ facts: PersonFacts, on day: LocalDate) -> State {
        let aged65 = day >= facts.birthDate.birthday(65)
        let assisted = facts.publicAssistance.contains { $0.contains(day) }
        let suspended = facts.assistanceSuspended.contains { $0.contains(day) }
        return State(
            alive: facts.deathDate.map { day <= $0 } ?? true,
            resident: facts.saitamaResidence.contains { $0.contains(day) } || facts.specialAddress.contains { $0.contains(day) },
            aged75: day >= facts.birthDate.birthday(75),
            certified: aged65 && facts.disabilityCertified.contains { $0.contains(day) },
            excluded: assisted && !suspended)
    }

    static func acquisitionReason(_ facts: PersonFacts, from before: State, to now: State) -> AcquisitionReason {
        if !before.resident { return .movedIn }
        if before.excluded { return .assistanceEnded }
        if now.aged75 && !before.aged75 && !before.certified { return .age75 }
        return now.certified && !before.certified && !now.aged75 ? .disabilityCertified : .age75
    }

    static func lossReason(_ facts: PersonFacts, from before: State, to now: State) -> LossReason {
        if !now.alive { return .died }
        if !now.resident { return .movedOut }
        if now.excluded { return .assistanceStarted }
        return .disabilityWithdrawn
    }
}
