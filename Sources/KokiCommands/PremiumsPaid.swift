import ArgumentParser
import Foundation
import KokiStore
import Postgres

/// `koki premiums-paid` — premiums paid in a calendar year (社会保険料控除), for one person
/// at the counter or for 市民税課 on request.
struct PremiumsPaid: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "premiums-paid",
        abstract: "Premiums paid in a calendar year, per person (KOKI_DATABASE_URL).")

    @Option(help: "The calendar year.") var year: Int
    @Option(help: "Only this person (宛名番号).") var atena: String?
    @Flag(help: "CSV: atenaNo,calendarYear,amount") var csv = false
    @OptionGroup var read: ReadPurpose

    func validate() throws {
        guard (2000...2200).contains(year) else { throw ValidationError("--year must be between 2000 and 2200") }
        if let atena, atena.utf8.count != 10 || !atena.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
            throw ValidationError("--atena must be 10 digits")
        }
    }

    mutating func run() async throws {
        let (year, atena, read) = (self.year, self.atena, self.read)
        let rows = try await withDatabase(as: .clerk) { conn in
            try conn.transaction { tx in
                let rows = try LedgerStore(tx).premiumsPaid(in: year, person: atena)
                try read.record(rows.map(\.atenaNo), command: "premiums-paid", fields: ["収納"], on: tx)
                return rows
            }
        }
        if csv { print("atenaNo,calendarYear,amount") }
        for row in rows { print(csv ? "\(row.atenaNo),\(year),\(row.amount)" : "\(row.atenaNo)  \(year)年  \(row.amount.formatted())円") }
        if rows.isEmpty && !csv { print("no premiums paid in \(year)") }
    }
}
