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
    @Flag(help: "Print JSON: {\"lateFee\", \"base\", \"firstTierEnd\", \"periods\": [{\"from\", \"to\", \"days\", \"ratePercent\", \"tier\", \"base\", \"amount\"}], \"exactYen\", \"rules\"}.") var json = false

    func validate() throws {
        guard amount >= 0, amount <= 10_000_000_000 else { throw ValidationError("--amount must be between 0 and 10,000,000,000") }
        guard LocalDate(iso: due) != nil else { throw ValidationError("--due must be a date YYYY-MM-DD") }
        guard let paidOn = LocalDate(iso: paid) else { throw ValidationError("--paid must be a date YYYY-MM-DD") }
        guard LocalDate(iso: due)!.days(until: paidOn) <= 36_600 else { throw ValidationError("--paid is more than 100 years after --due") }
    }

    struct Output: Encodable {
        struct Period: Encodable {
            let from: LocalDate, to: LocalDate, days: Int, ratePercent: Decimal, tier: String, base: Int, amount: Int
        }
        let lateFee: Int
        let amount: Int
        let base: Int
        let dueDate: LocalDate
        let firstTierEnd: LocalDate?
        let periods: [Period]
        /// Σ base × days × rate ÷ 365, rounded down to the yen, before the 100-yen rounding.
        let exactYen: Int
        /// The rules applied, each with its source (計算根拠).
        let rules: [String]
    }

    static let rules = [
        "期別金額が2,000円未満なら延滞金なし、基礎は1,000円未満切捨て（地方税法20条の4の2第1項）",
        "納期限の翌日から納付の日まで、年365日当たりの割合で日割（閏年も365日）",
        "納期限の翌日から1月を経過する日までは第1段階の割合。期間は民法143条で数える（月の初日から始まる期間はその月の末日まで）",
        "割合は暦年ごとの特例（地方税法附則3条の2）、1月1日と第1段階の終わりで区切る",
        "合計は100円未満切捨て、1,000円未満なら延滞金なし（地方税法20条の4の2第2項・第3項）",
    ]

    func run() throws {
        let dueDate = LocalDate(iso: due)!
        let result: LateFee.Result
        do {
            result = try LateFee.compute(amount: amount, dueDate: dueDate, paidOn: LocalDate(iso: paid)!)
        } catch {
            throw ValidationError("\(error) — this calculator knows the years \(LateFee.Schedule.standard.years.map(\.year).min()!)–\(LateFee.Schedule.standard.years.map(\.year).max()!)")
        }
        if json {
            let output = Output(lateFee: result.lateFee, amount: amount, base: result.base, dueDate: dueDate,
                                firstTierEnd: result.firstTierEnd, periods: result.periods.map {
                .init(from: $0.from, to: $0.to, days: $0.days, ratePercent: Decimal(string: $0.rate.description)!,
                      tier: $0.firstTier ? "first" : "later", base: $0.base, amount: $0.amount)
            }, exactYen: result.exactYen, rules: Self.rules)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(output), as: UTF8.self))
            return
        }
        print("延滞金 \(result.lateFee.formatted()) 円（期別金額 \(amount.formatted()) 円、基礎 \(result.base.formatted()) 円、納期限 \(Wareki.format(dueDate))）")
        if let end = result.firstTierEnd { print("  第1段階: \(dueDate.adding(days: 1)) 〜 \(end)") }
        for p in result.periods {
            print("  \(p.from) 〜 \(p.to)  \(p.days) 日  \(p.firstTier ? "第1段階" : "第2段階")  年 \(p.rate)%  基礎 \(p.base.formatted()) 円  \(p.amount.formatted()) 円")
        }
        if result.periods.isEmpty {
            print("  納期限までの納付、または2,000円未満の期別: 延滞金なし")
        } else {
            print("  計 \(result.exactYen.formatted()) 円 → 100円未満切捨て \(Yen.floorTo100(result.exactYen).formatted()) 円"
                  + (result.lateFee == 0 ? " → 1,000円未満のため延滞金なし" : ""))
        }
        print("計算根拠:")
        for rule in Self.rules { print("  ・\(rule)") }
    }
}
