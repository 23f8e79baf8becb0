import ArgumentParser
import KokiBase
import KokiEvents
import KokiDomain
import KokiStore

/// `koki rates` — the premium rates the workers read, and the approval the July 本算定 needs to
/// run on rates the union has not decided.
struct Rates: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rates",
        abstract: "Show a 年度's premium rates; approve a 本算定 on provisional rates (KOKI_DATABASE_URL).",
        subcommands: [Show.self, ApproveProvisional.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The rates of a 年度 and whether they are provisional.")
        @Option(help: "The 年度 (April–March).") var fiscalYear: Int

        func validate() throws {
            guard (2008...2200).contains(fiscalYear) else { throw ValidationError("--fiscal-year must be between 2008 and 2200") }
        }

        mutating func run() async throws {
            let year = fiscalYear
            let (rates, approved) = try await withDatabase {
                (try TaxStore($0).rates(for: year), try TaxStore($0).provisionalRatesApproved(fiscalYear: year))
            }
            guard let rates else { throw ValidationError("no rates for 年度 \(year)") }
            for c in rates.components {
                print("\(c.name): 均等割 \(c.perCapita.formatted()) 円  所得割率 \(c.incomeRate)%  限度額 \(c.cap.formatted()) 円"
                      + (c.reducedCap.map { "（経過措置 \($0.formatted()) 円）" } ?? ""))
            }
            print("軽減: 5割 \(rates.fiveTenthsPerInsured.formatted()) 円 × 被保険者数, 2割 \(rates.twoTenthsPerInsured.formatted()) 円 × 被保険者数")
            print(rates.provisional ? "provisional (not decided by the union)" + (approved ? "; 本算定 approved on these rates" : "; the 本算定 waits")
                                    : "decided")
        }
    }

    struct ApproveProvisional: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "approve-provisional",
            abstract: "Let the July 本算定 of a 年度 run on rates the union has not decided (recorded with who and why).")
        @Option(help: "The 年度 (April–March).") var fiscalYear: Int
        @Option(help: "Why (recorded; no personal data).") var reason: String

        func validate() throws {
            guard (2008...2200).contains(fiscalYear) else { throw ValidationError("--fiscal-year must be between 2008 and 2200") }
            try validateReason(reason)
        }

        mutating func run() async throws {
            let (year, reason) = (fiscalYear, reason)
            try await withDatabase { try TaxStore($0).approveProvisionalRates(fiscalYear: year, reason: reason) }
            print("koki rates: the 本算定 of 年度 \(year) may run on provisional rates")
        }
    }
}
