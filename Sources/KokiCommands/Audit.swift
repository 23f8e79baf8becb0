import ArgumentParser
import Foundation
import KokiBase
import Postgres
import Transfer

/// `koki audit …` and `koki policy show` — the transfer log and the policy, for the
/// 情報システム管理者 (seed III-5).
struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The transfer log: verify its chain, review what was sent.",
                                                    subcommands: [Verify.self, Report.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute the hash chain; report the first broken, missing or inserted row (KOKI_DATABASE_URL).")

        mutating func run() async throws {
            let (rows, problem) = try await withDatabase { try AuditLog.verify(on: $0) }
            if let problem { throw fail("the transfer log is broken: \(problem)") }
            print("transfer log verified: \(rows) rows, chain intact")
        }
    }

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Counts per event type and legal basis sent to a destination.")

        @Option(help: "The destination (koiki, welfare-livelihood, disability-welfare, child-development, municipal-tax).")
        var destination: String
        @Option(help: "First day, YYYY-MM-DD (UTC).") var from: String
        @Option(help: "Last day, YYYY-MM-DD (UTC).") var to: String
        @Flag(help: "CSV: eventType,legalBasis,count") var csv = false

        func validate() throws {
            guard let first = LocalDate(iso: from), let last = LocalDate(iso: to) else {
                throw ValidationError("--from and --to must be dates YYYY-MM-DD")
            }
            guard first <= last else { throw ValidationError("--to must not be before --from") }
        }

        mutating func run() async throws {
            let (destination, first, last) = (self.destination, LocalDate(iso: from)!, LocalDate(iso: to)!)
            let lines = try await withDatabase { try AuditLog.report(destination: destination, from: first, to: last, on: $0) }
            if csv {
                print("eventType,legalBasis,count")
                for l in lines { print("\(l.eventType),\"\(l.legalBasis.replacingOccurrences(of: "\"", with: "\"\""))\",\(l.count)") }
                return
            }
            print("\(destination): \(first) – \(last)")
            for l in lines { print("  \(l.eventType.padding(toLength: 32, withPad: " ", startingAt: 0)) \(l.count)  (\(l.legalBasis))") }
            print("  total \(lines.reduce(0) { $0 + $1.count })")
        }
    }
}

struct Policy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The transfer policy.", subcommands: [Show.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every destination: topic, legal basis, active period, and per event type the fields it may receive.")

        mutating func run() async throws {
            let rules = try await withDatabase { try TransferPolicy.load(on: $0) }
            for d in rules.destinations.values.sorted(by: { $0.destination < $1.destination }) {
                print("\(d.destination) — \(d.name)  topic \(d.topic)")
                print("  basis: \(d.legalBasis)")
                print("  active: \(d.activeFrom) – \(d.activeTo.map { "\($0)" } ?? "")")
                for (type, rule) in (rules.rules[d.destination] ?? [:]).sorted(by: { $0.key < $1.key }) {
                    let flags = [rule.myNumberAllowed ? "個人番号" : nil, rule.requiredByStatute ? "required by statute" : nil]
                        .compactMap { $0 }.joined(separator: ", ")
                    print("  \(type)\(flags.isEmpty ? "" : " [\(flags)]"): \(rule.fields.sorted().joined(separator: ", "))")
                }
            }
        }
    }
}
