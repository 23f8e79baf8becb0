import ArgumentParser
import Foundation
import KokiBase
import KokiEvents
import KokiStore

/// `koki reconcile` — 突合: where the union's decisions and koki's own computation disagree, as a
/// work queue for clerks.
struct Reconcile: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "The discrepancies between the union's decisions and koki's computation (KOKI_DATABASE_URL).",
        subcommands: [List.self, Close.self, Interfaces.self], defaultSubcommand: List.self)

    static let kinds = ["annual-premium", "reduction", "beyond-limit", "qualification", "burden-ratio", "unknown-to-union",
                        "unknown-to-koki"]

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List discrepancies: person, 年度, kind, koki's value, the union's, opened and closed.")
        @Flag(help: "Only the open ones.") var open = false
        @Option(help: "Only this kind (\(Reconcile.kinds.joined(separator: ", "))).") var kind: String?
        @Flag(help: "JSON: an array of {id, atenaNo, fiscalYear, kind, kokiValue, unionValue, openedOn, closedOn, closedReason, closedBy}.")
        var json = false
        @OptionGroup var read: ReadPurpose

        func validate() throws {
            if let kind, !Reconcile.kinds.contains(kind) { throw ValidationError("--kind must be one of \(Reconcile.kinds.joined(separator: ", "))") }
        }

        mutating func run() async throws {
            let (open, kind, read) = (self.open, self.kind, self.read)
            // Each person listed is a read of their data (賦課 and 資格 figures), logged with the list.
            let rows = try await withDatabase(as: .clerk) { conn in
                try conn.transaction { tx in
                    let rows = try UnionStore(tx).discrepancies(openOnly: open, kind: kind)
                    try read.record(Array(Set(rows.map(\.atenaNo))).sorted(), command: "reconcile", fields: ["突合"], on: tx)
                    return rows
                }
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(rows), as: UTF8.self))
                return
            }
            for r in rows {
                let state = r.closedOn.map { "closed \($0) (\(r.closedReason ?? ""))" } ?? "open"
                print("#\(r.id)  \(r.atenaNo)  \(r.fiscalYear.map { "\($0)年度" } ?? "-")  \(r.kind)  koki=\(r.kokiValue ?? "-")  union=\(r.unionValue ?? "-")  opened \(r.openedOn)  \(state)")
            }
            let counts = Dictionary(grouping: rows.filter { $0.closedOn == nil }, by: \.kind).mapValues(\.count)
            print("open: " + (counts.isEmpty ? "none" : counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))
        }
    }

    struct Close: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A clerk closes one open discrepancy, with a reason (recorded with the login).")
        @Option(help: "The discrepancy's id.") var id: Int
        @Option(help: "Why it is closed (no personal data).") var reason: String
        @Option(help: "The business date (default: today in Tokyo).") var on: String?
        @Option(help: "Who closes it (default: $USER); the database login is recorded as well.") var operatorName: String?

        func validate() throws {
            try validateReason(reason)
            if let on, LocalDate(iso: on) == nil { throw ValidationError("--on must be a date YYYY-MM-DD") }
        }

        mutating func run() async throws {
            let (id, reason) = (self.id, self.reason)
            let day = on.flatMap(LocalDate.init(iso:)) ?? LocalDate.todayInTokyo()
            let clerk = operatorName ?? defaultOperator()
            let closed = try await withDatabase(as: .clerk) { try UnionStore($0).close(id: id, reason: reason, by: clerk, on: day) }
            guard closed else { throw fail("no open discrepancy #\(id)") }
            print("koki reconcile: #\(id) closed")
        }
    }

    struct Interfaces: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The daily interface reconciliation of a business day: per inbound source applied and dead-lettered, per destination sent, the ledger's money by entry.",
            discussion: "Run it once each business day for the day before, with --record: the relay's koki_interface_reconciliation_behind_days gauge counts the business days not recorded.")
        @Option(help: "The business day, YYYY-MM-DD.") var date: String
        @Flag(help: "Record the report as the day's reconciliation.") var record = false
        @Flag(help: "JSON: an array of {direction, interface, party, received, applied, deadLettered, amount}.") var json = false

        func validate() throws {
            guard LocalDate(iso: date) != nil else { throw ValidationError("--date must be a date YYYY-MM-DD") }
        }

        mutating func run() async throws {
            let (day, record) = (LocalDate(iso: date)!, self.record)
            let lines = try await withDatabase { conn -> [InterfaceReconciliation.Line]? in
                guard let lines = try InterfaceReconciliation.report(day, on: conn) else { return nil }
                if record { try InterfaceReconciliation.record(day, lines, on: conn) }
                return lines
            }
            guard let lines else { throw fail("no worker reached \(day): nothing to reconcile") }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(lines), as: UTF8.self))
                return
            }
            print("== interface reconciliation \(day) ==")
            for l in lines {
                switch l.direction {
                case "inbound": print("in   \(l.interface)  \(l.party)  received \(l.received)  applied \(l.applied)  dead-lettered \(l.deadLettered)")
                case "outbound": print("out  \(l.interface)  \(l.party)  sent \(l.applied)")
                default: print("yen  \(l.interface)  \(l.applied) entries  \((l.amount ?? 0).formatted()) 円")
                }
            }
            if record { print("recorded") }
        }
    }
}

/// A reason an operator gives (recorded; no personal data): the contract's free-text rule — 1 to
/// 500 characters, no control characters (`InboundRules.text`).
func validateReason(_ reason: String) throws {
    do { try InboundRules.text(reason, "--reason", max: 500) } catch { throw ValidationError(error.reason) }
}
