/// What changed between the qualification periods the store holds and the ones the rules
/// compute now — the differences the insurer and the departments are told about.
public enum QualificationChange: Sendable, Hashable {
    /// A new period.
    case acquired(QualificationPeriod)
    /// An open period now ends.
    case lost(QualificationPeriod)
    /// A period's dates or reasons were corrected by a late fact.
    case changed(before: QualificationPeriod, after: QualificationPeriod)
    /// A period turned out never to have existed (e.g. a death reported late).
    case withdrawn(QualificationPeriod)

    /// The differences, in date order; none when nothing changed (recomputing is idempotent).
    public static func between(stored: [QualificationPeriod], computed: [QualificationPeriod]) -> [QualificationChange] {
        let before = Dictionary(stored.map { ($0.acquiredOn, $0) }, uniquingKeysWith: { first, _ in first })
        let after = Set(computed.map(\.acquiredOn))
        var changes: [QualificationChange] = []
        for period in computed.sorted(by: { $0.acquiredOn < $1.acquiredOn }) {
            guard let old = before[period.acquiredOn] else {
                changes.append(.acquired(period))
                if period.lostOn != nil { changes.append(.lost(period)) }
                continue
            }
            if old == period { continue }
            if old.lostOn == nil, period.lostOn != nil, old.acquisitionReason == period.acquisitionReason {
                changes.append(.lost(period))
            } else {
                changes.append(.changed(before: old, after: period))
            }
        }
        for old in stored.sorted(by: { $0.acquiredOn < $1.acquiredOn }) where !after.contains(old.acquiredOn) {
            changes.append(.withdrawn(old))
        }
        return changes
    }

    /// The period as it is after the change (before it, for a withdrawal).
    public var period: QualificationPeriod {
        switch self {
        case .acquired(let p), .lost(let p), .withdrawn(let p), .changed(_, let p): p
        }
    }

    /// The history's word for the change.
    public var name: String {
        switch self {
        case .acquired: "acquired"
        case .lost: "lost"
        case .changed: "changed"
        case .withdrawn: "withdrawn"
        }
    }
}
