import ArgumentParser
import Foundation
import KokiBase
import KokiDomain

/// `koki late-fee` — the counter's 延滞金 calculator (pure: no database).
struct LateFeeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "late-fee",
        abstract: "Compute the 延滞金 on one installment paid late, with its breakdown.")

    @Option(help: "The installment's amount in yen.") var amount: Int
    @Option(help: "The 納期限, YYYY-MM-DD.") var due: String
    @Option(help: "The payment date, YYYY-MM-DD.") var paid: String
    @Flag(help: "Print JSON: {\"lateFee\", \"periods\": [{\"from\", \"to\", \"days\", \"ratePercent\", \"amount\"}]}.") var json = false

    func validate() throws {
        guard amount >= 0, amount <= 10_000_000_000 else { throw ValidationError("--amount must be between 0 and 10,000,000,000") }
        guard LocalDate(iso: due) != nil else { throw ValidationError("--due must be a date YYYY-MM-DD") }
        guard let paidOn = LocalDate(iso: paid) else { throw ValidationError("--paid must be a date YYYY-MM-DD") }
        guard LocalDate(iso: due)!.days(until: paidOn) <= 36_600 else { throw ValidationError("--paid is more than 100 years after --due") }
    }

    struct Output: Encodable {
        struct Period: Encodable {
            let from: LocalDate, to: LocalDate, days: Int, ratePercent: Decimal, amount: Int
        }
        let lateFee: Int
        let periods: [Period]
    }

    func run() throws {
        let result = LateFee.compute(amount: amount, dueDate: LocalDate(iso: due)!, paidOn: LocalDate(iso: paid)!)
        if json {
            let output = Output(lateFee: result.lateFee, periods: result.periods.map {
                .init(from: $0.from, to: $0.to, days: $0.days, ratePercent: Decimal(string: $0.rate.description)!, amount: $0.amount)
            })
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(output), as: UTF8.self))
            return
        }
        print("延滞金 \(result.lateFee.formatted()) 円（基礎 \(result.base.formatted()) 円、納期限 \(Wareki.format(LocalDate(iso: due)!))）")
        for p in result.periods {
            print("  \(p.from) 〜 \(p.to)  \(p.days) 日  年 \(p.rate)%  \(p.amount.formatted()) 円")
        }
        if result.periods.isEmpty { print("  納期限までの納付、または2,000円未満の期別: 延滞金なし") }
    }
}
