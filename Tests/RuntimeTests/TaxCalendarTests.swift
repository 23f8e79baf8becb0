import Foundation
import KokiBase
import KokiEvents
import KokiStore
import Postgres
import Testing
@testable import TaxWorker
import WorkerRuntime

/// A register change the resident worker decided on a business day the tax worker has not
/// reached yet waits for that day, so which installments stand does not depend on whether the
/// change overtook the tick.
@Suite("Tax worker's day for a register change")
struct TaxCalendarTests {
    func update(asOf day: String) -> ResidentUpdate {
        ResidentUpdate(atenaNo: "0000000103", householdNo: "0000009002", previousHouseholdNo: nil,
                       effectiveDate: LocalDate(iso: "2026-08-01")!, asOf: LocalDate(iso: day)!)
    }

    func waits(tax: String?, resident: String?, updates: [String], after: CalendarStore.Worker? = .resident,
               on conn: PostgresConnection) throws -> Bool {
        try conn.transaction { tx in
            try tx.execute("DELETE FROM worker_calendars")
            if let tax { _ = try CalendarStore(tx, worker: .tax).advance(to: LocalDate(iso: tax)!) }
            if let resident { _ = try CalendarStore(tx, worker: .resident).advance(to: LocalDate(iso: resident)!) }
            do {
                try TaxHandler.waitForTheDayOf(updates.map { update(asOf: $0) }, after: after, in: tx)
                return false
            } catch let notYet as NotYet {
                #expect(!notYet.description.contains("0000000103"), "no person in the reason")
                return true
            }
        }
    }

    @Test func aChangeForALaterDayWaitsForItsTick() async throws {
        let conn = try await PostgresConnection.connect(try await MigratedDatabase.create())
        try await conn.run { conn throws in
            // The resident worker is at 8/3 and decided the death then; the tax worker's 8/3 is still to come.
            #expect(try waits(tax: "2026-07-01", resident: "2026-08-03", updates: ["2026-07-01", "2026-08-03"], on: conn) == true)
            // Its own day reached: applied.
            #expect(try waits(tax: "2026-08-03", resident: "2026-08-03", updates: ["2026-08-03"], on: conn) == false)
            #expect(try waits(tax: "2026-08-04", resident: "2026-08-04", updates: ["2026-08-03"], on: conn) == false)
            // Decided before the clock first ticked (a date no tick has reached), before this worker's first
            // tick, or by a resident worker this one does not follow: nothing to wait for.
            #expect(try waits(tax: "2026-07-01", resident: "2026-07-01", updates: ["2026-09-01"], on: conn) == false)
            #expect(try waits(tax: nil, resident: "2026-08-03", updates: ["2026-08-03"], on: conn) == false)
            #expect(try waits(tax: "2026-07-01", resident: "2026-08-03", updates: ["2026-08-03"], after: nil, on: conn) == false)
            #expect(try waits(tax: "2026-07-01", resident: "2026-08-03", updates: [], on: conn) == false)
        }
    }
}
