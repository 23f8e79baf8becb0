import KokiBase
import KokiDomain
import KokiEvents
import KokiSecrets
import KokiStore
import Postgres
import WorkerRuntime

/// koki-resident-worker's handler: 宛名, 世帯 and 資格. Each batch writes the facts its
/// events carry, then recomputes the qualification of everyone they touch (for a household
/// change, the whole household) under row locks, and derives the transfers: to the insurer
/// on every change, to a department only about the people enrolled with it.
public struct ResidentHandler: EventHandler {
    public static let topics = ["resident.changes.v1", "welfare.public-assistance.v1", "counter.applications.v1",
                                "department.enrollments.v1", UnionDecision.topic, "clock.business-day.v1"]

    public let acceptedTypes = ResidentCommand.acceptedTypes

    let myNumbers: MyNumberIntake
    /// Which business days are accepted (the same rule in every worker).
    let clock: ClockRule

    public init(myNumbers: MyNumberIntake, clock: ClockRule = .standard) {
        self.myNumbers = myNumbers
        self.clock = clock
    }

    public func apply(_ events: [InboundEvent], in tx: PostgresConnection) throws -> [EventOutcome] {
        var rejected: [Int: Rejection] = [:]
        var commands: [Step] = []
        for (index, event) in events.enumerated() {
            do {
                commands.append(Step(index: index, event: event, command: try ResidentCommand(event)))
            } catch {
                rejected[index] = error
            }
        }
        let refused = try CalendarStore(tx, worker: .resident).admitDays(
            &commands, rule: clock, day: { if case .clock(let date) = $0.command { date } else { nil } }, index: \.index)
        for (index, reason) in refused { rejected[index] = Rejection(.validation, reason) }
        var batch = ResidentBatch(tx: tx, steps: commands, myNumbers: myNumbers, derived: Array(repeating: [], count: events.count))
        try batch.run()
        return events.indices.map { index in
            if let rejection = rejected[index] { return .rejected(rejection) }
            return .applied(batch.derived[index])
        }
    }
}

/// One valid event of the batch.
struct Step {
    let index: Int
    let event: InboundEvent
    let command: ResidentCommand
}
