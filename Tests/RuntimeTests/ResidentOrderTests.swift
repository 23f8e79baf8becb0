import Foundation
import Kafka
import KokiBase
import KokiSynth
import Postgres
import ResidentWorker
import Testing
@testable import WorkerRuntime

/// The resident worker's store depends on effective dates, not on the order events arrive
/// in: the same synthetic register applied in three orders ends in the same state.
@Suite("Resident worker, arrival order")
struct ResidentOrderTests {
    @Test func sameEventsInAnyOrderGiveTheSameStore() async throws {
        var options = SyntheticResidents.Options()
        options.residents = 400
        options.seed = 7
        let register = SyntheticResidents.events(options)
        let ticks = [LocalDate(year: 2026, month: 12, day: 1)!, LocalDate(year: 2027, month: 4, day: 1)!]
            .map { EventFactory().businessDay($0) }
        var random = SeededRandom(seed: 99)
        let orders: [[OutgoingMessage]] = [register, register.reversed(), register.shuffled(using: &random)]

        var states: [[String]] = []
        for order in orders {
            let url = try await MigratedDatabase.create()
            let conn = try await PostgresConnection.connect(url)
            let events = try (order + ticks).enumerated().map { try InboundEvent(consumed($0.element, offset: Int64($0.offset))) }
            let handler = ResidentHandler(vault: TestKeys.vault)
            try await conn.run { conn in
                for start in stride(from: 0, to: events.count, by: 50) {
                    let batch = Array(events[start..<min(events.count, start + 50)])
                    let outcomes = try conn.transaction { try handler.apply(batch, in: $0) }
                    #expect(outcomes.allSatisfy { if case .applied = $0 { true } else { false } })
                }
            }
            states.append(try await conn.run { conn in
                try conn.query("""
                    SELECT atena_no || ' ' || acquired_on || ' ' || acquisition_reason || ' ' || coalesce(lost_on::text, '-')
                           || ' ' || coalesce(loss_reason, '-') FROM qualification_periods ORDER BY 1
                    """).map { try $0.decode(String.self, at: 0) }
                    + conn.query("""
                        SELECT r.atena_no || ' ' || coalesce(r.household_no, '-') || ' ' || r.lives_here || ' ' || r.insured
                               || ' ' || coalesce(r.next_review_on::text, '-') || ' ' || h.event_id
                        FROM residents r JOIN resident_history h
                             ON h.atena_no = r.atena_no AND h.history_no = r.current_history_no ORDER BY 1
                        """).map { try $0.decode(String.self, at: 0) }
            })
        }
        #expect(states[0].count > 400)
        #expect(states[0].contains { $0.hasSuffix("died") } && states[0].contains { $0.hasSuffix("moved-out") },
                "the register has deaths and moves to compare")
        // 履歴番号 follow arrival; everything derived from the facts must not.
        for (order, state) in zip(["reversed", "shuffled"], states.dropFirst()) {
            #expect(state == states[0], "\(order) order: \(Set(state).symmetricDifference(states[0]).sorted().prefix(10))")
        }
    }
}
