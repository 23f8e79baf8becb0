import Foundation
import Kafka
import KokiBase
import KokiEvents
import KokiStore
import KokiSynth
import PaymentWorker
import Postgres
import ResidentWorker
import Testing
@testable import WorkerRuntime

/// Each worker notices each business day itself: another worker applying the same clock event
/// first must not take the turn of the year away from the payment worker.
@Suite("Business dates per worker")
struct CalendarTests {
    @Test func theTurnOfTheYearIsNoticedWhoeverAppliesTheClockFirst() async throws {
        let url = try await MigratedDatabase.create()
        let conn = try await PostgresConnection.connect(url)
        let factory = EventFactory(source: "urn:test")
        let a = "0000000301"
        let payment = PaymentHandler(after: nil, clock: .replay), resident = ResidentHandler(myNumbers: TestKeys.intake, clock: .replay)
        let derived = try await conn.run { conn -> [DerivedEvent] in
            try PaymentWorkerTests.seed(conn, a, [(1, "2026-07-31", 10_000)])
            var offset: Int64 = 0
            func apply(_ handler: any EventHandler, _ message: OutgoingMessage) throws -> [DerivedEvent] {
                offset += 1
                let event = try InboundEvent(consumed(message, offset: offset))
                let outcomes = try conn.transaction { try handler.apply([event], in: $0) }
                guard case .applied(let derived) = outcomes[0] else {
                    Issue.record("not applied: \(outcomes)")
                    return []
                }
                return derived
            }
            _ = try apply(payment, factory.businessDay(LocalDate(iso: "2026-07-01")!))
            _ = try apply(payment, factory.message(topic: "collection.payments.v1", type: "payment.received", id: "p-1", key: a,
                                                   body: PaymentRecord(paymentId: "P-1", atenaNo: a, fiscalYear: 2026, installmentNo: 1,
                                                                       amount: 10_000, paidOn: LocalDate(iso: "2026-07-30")!,
                                                                       creditedOn: nil, channel: .bank)))
            _ = try apply(payment, factory.businessDay(LocalDate(iso: "2026-12-28")!))
            // The resident worker applies the first business day of 2027 first …
            _ = try apply(resident, factory.businessDay(LocalDate(iso: "2027-01-04")!))
            // … and the payment worker still sees its year turn.
            return try apply(payment, factory.businessDay(LocalDate(iso: "2027-01-04")!))
        }
        let paid = derived.filter { $0.type == TransferType.premiumsPaid }
        #expect(paid.count == 1 && paid.first?.key == a, "\(derived.map(\.type))")
    }
}
