import ArgumentParser
import Foundation
import KokiDomain

/// `koki estimate` — the counter's 試算: one household's premiums, no database needed.
struct Estimate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Estimate a household's premiums (試算) from a JSON household on stdin or --file.",
        discussion: """
            Input: {"fiscalYear": 2024, "members": [{"id": "a", "insured": true, "head": true, \
            "birthDate": "1944-05-01", "publicPensionIncome": 2210000, "salaryIncome": 0, "otherIncome": 0, \
            "acquiredOn": null, "formerDependent": false}], "rates": null}. Incomes are the previous calendar \
            year's revenues (pension, salary) and other 所得, in yen. "rates" simulates other rates: \
            {"perCapita", "incomeRatePercent" (a decimal string), "cap", "fiveTenthsPerInsured", "twoTenthsPerInsured"}.
            """)

    @Option(help: "Read the household from this file instead of stdin.")
    var file: String?

    func run() throws {
        let data: Data
        if let file {
            guard let contents = FileManager.default.contents(atPath: file) else { throw fail("cannot read \(file)") }
            data = contents
        } else {
            data = FileHandle.standardInput.readDataToEndOfFile()
        }
        let input: PremiumEstimate.Input
        do {
            input = try JSONDecoder().decode(PremiumEstimate.Input.self, from: data)
        } catch let error as DecodingError {
            throw fail("invalid input: \(Self.describe(error))")
        } catch {
            throw fail("invalid input: not JSON")
        }
        do {
            let output = try PremiumEstimate.compute(input)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            print(String(decoding: try encoder.encode(output), as: UTF8.self))
        } catch let error as PremiumEstimate.Invalid {
            throw fail("invalid input: \(error.description)")
        }
    }

    /// Names the field and the problem, never the value.
    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined()
                .trimmingCharacters(in: CharacterSet(charactersIn: "."))
                .replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context)
            return "missing field \(parent.isEmpty ? key.stringValue : parent + "." + key.stringValue)"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "field \(path(context)) has the wrong type"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not JSON" : "field \(path(context)) has an invalid value"
        @unknown default:
            return "does not match the input format"
        }
    }
}
