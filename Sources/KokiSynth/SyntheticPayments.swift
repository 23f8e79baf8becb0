import Kafka
import KokiBase
import KokiEvents
import Postgres

/// A month of synthetic 収納 for people with ordinary 期割 plans: most pay on time naming the
/// installment, some late, some never, some twice, some without naming it, a few unknown to
/// the register, and a few 口座振替 that fail. Deterministic for a seed.
public struct SyntheticPayments {
    public struct Plan: Sendable {
        public let atenaNo: String
        public let fiscalYear: Int
        public let installments: [(no: Int, dueDate: LocalDate, amount: Int)]
    }

    /// Plans for `people` persons (宛名番号 from `firstNumber`): four 期 of 3,000–30,000 yen
    /// due at the ends of July–October of `fiscalYear`.
    public static func plans(people: Int, fiscalYear: Int, firstNumber: Int = 1, seed: UInt64 = 3) -> [Plan] {
        var random = SeededRandom(seed: seed)
        return (0..<people).map { i in
            let amount = Int.random(in: 30...300, using: &random) * 100
            return Plan(atenaNo: String(firstNumber + i).leftPadded(10), fiscalYear: fiscalYear,
                        installments: (7...10).enumerated().map { index, month in
                            (index + 1, LocalDate(year: fiscalYear, month: month, day: LocalDate.daysIn(month: month, year: fiscalYear))!,
                             amount)
                        })
        }
    }

    /// Writes the plans as the tax worker would have (residents, plans, installments) with COPY.
    public static func load(_ plans: [Plan], into conn: PostgresConnection) throws {
        _ = try conn.copyIn(table: "residents", columns: ["atena_no", "current_history_no", "birth_date", "lives_here", "insured"],
                            rows: plans.map { [$0.atenaNo, 1, LocalDate(year: 1945, month: 1, day: 1)!, true, true] })
        _ = try conn.copyIn(table: "installment_plans", columns: ["atena_no", "fiscal_year", "revision", "decided_on",
                                                                  "assessment_history_no", "current"],
                            rows: plans.map { [$0.atenaNo, $0.fiscalYear, 1, LocalDate(year: $0.fiscalYear, month: 7, day: 1)!, 1, true] })
        _ = try conn.copyIn(table: "installments", columns: ["atena_no", "fiscal_year", "revision", "method", "installment_no",
                                                             "due_date", "amount"],
                            rows: plans.flatMap { plan in plan.installments.map {
                                [plan.atenaNo, plan.fiscalYear, 1, "ordinary", $0.no, $0.dueDate, $0.amount] as [any PostgresEncodable]
                            } })
    }

    /// Payment events for installment `no` of every plan.
    public static func month(_ plans: [Plan], installment no: Int, seed: UInt64 = 5,
                             factory: EventFactory = EventFactory(source: "urn:kawaguchi:shuno")) -> [OutgoingMessage] {
        var random = SeededRandom(seed: seed &+ UInt64(no))
        var messages: [OutgoingMessage] = []
        func pay(_ plan: Plan, _ amount: Int, _ day: LocalDate, named: Bool, kind: PaymentRecord.Kind = .received,
                 channel: PaymentRecord.Channel = .convenienceStore, paymentID: String? = nil, atenaNo: String? = nil) {
            let id = "pay-\(plan.atenaNo)-\(plan.fiscalYear)-\(no)-\(messages.count)"
            let person = atenaNo ?? plan.atenaNo
            messages.append(factory.message(topic: "collection.payments.v1", type: kind.rawValue, id: id, key: person, body:
                PaymentRecord(paymentId: paymentID ?? id, atenaNo: person, fiscalYear: named ? plan.fiscalYear : nil,
                              installmentNo: named ? no : nil, amount: amount, paidOn: day, creditedOn: day.adding(days: 2),
                              channel: channel), time: day))
        }
        for plan in plans {
            guard let installment = plan.installments.first(where: { $0.no == no }) else { continue }
            let due = installment.dueDate
            switch random.weighted([("on-time", 80), ("late", 8), ("never", 4), ("twice", 3), ("unnamed", 2), ("unknown", 1),
                                    ("failed", 2)]) {
            case "on-time": pay(plan, installment.amount, due.adding(days: -Int.random(in: 0...20, using: &random)), named: true)
            case "late": pay(plan, installment.amount, due.adding(days: Int.random(in: 1...25, using: &random)), named: true)
            case "twice":
                pay(plan, installment.amount, due.adding(days: -3), named: true)
                pay(plan, installment.amount, due.adding(days: -1), named: true)
            case "unnamed": pay(plan, installment.amount, due.adding(days: -2), named: false)
            case "unknown": pay(plan, installment.amount, due, named: false, atenaNo: "9" + plan.atenaNo.dropFirst())
            case "failed":
                let reference = "AT-\(plan.atenaNo)-\(no)"
                pay(plan, installment.amount, due, named: true, channel: .accountTransfer, paymentID: reference)
                pay(plan, installment.amount, due.adding(days: 3), named: true, kind: .transferFailed, channel: .accountTransfer,
                    paymentID: reference)
            default: break
            }
        }
        return messages
    }
}
