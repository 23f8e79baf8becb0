import ArgumentParser
import KokiBase
import KokiCommands

/// `koki-dev` — what starts, feeds, measures or breaks koki on one machine: the whole stack playing
/// a synthetic city, the synthetic events themselves, the benchmarks, the fault-injection run and
/// the mock broker. Never in the production image (`scripts/build-release` builds the operators'
/// `koki` and the workers only).
@available(macOS 10.15, macCatalyst 13, iOS 13, tvOS 13, watchOS 6, *)
public struct KokiDev: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "koki-dev",
        abstract: "後期高齢者医療 back office: the development tools (the synthetic city, benchmarks, chaos).",
        version: KokiVersion.string,
        subcommands: [Dev.self, Synth.self, Chaos.self, Bench.self, Broker.self])

    public init() {}
}
