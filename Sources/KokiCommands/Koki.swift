import ArgumentParser
import KokiBase

/// `koki` — the operators' and the counter's command line (the development tools are `koki-dev`).
@available(macOS 10.15, macCatalyst 13, iOS 13, tvOS 13, watchOS 6, *)
public struct Koki: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "koki",
        abstract: "後期高齢者医療 back office: the operators' and the counter's commands (development tools: koki-dev).",
        version: KokiVersion.string,
        subcommands: [Migrate.self, Tick.self, Clock.self, Person.self, Estimate.self, LateFeeCommand.self, Rates.self, Reconcile.self, Ledger.self, PremiumsPaid.self, Policy.self, Audit.self, Keys.self, Disclose.self, UsageStop.self, TopicsCommand.self, DeadLetters.self, OutboxCommand.self, Offsets.self])

    public init() {}
}

/// Prints an error's safe description (and, for schema errors, the server's text) and
/// exits non-zero.
package func fail(_ message: String) -> ExitCode {
    var stderr = StandardError()
    print("koki: \(message)", to: &stderr)
    return ExitCode(1)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileHandleOutput.writeStderr(string)
    }
}

@available(macOS 10.15, macCatalyst 13, iOS 13, tvOS 13, watchOS 6, *)
extension AsyncParsableCommand {
    /// The entry point of `koki` and `koki-dev`. Dispatching inside a method (not at a
    /// `main.swift` top level, where `run()` binds to the synchronous default that only prints
    /// help) reaches each subcommand's async `run`.
    public static func runAsMain() async {
        do {
            var command = try await asyncParseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
