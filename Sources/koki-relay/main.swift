import Foundation
import KokiEvents
import KokiSecrets
import Transfer
import WorkerRuntime

ProcessMain.answerCommandLine(name: "koki-relay", purpose: "publishes the outbox through the transfer policy into the transfer log")

// Every row for a transfer topic goes through the transfer policy (legal basis, active period,
// allowed fields) and is written to the hash-chained transfer log when published. The opening
// keys open sealed 個人番号 for the destinations whose rules include them, and for no other.
let opener: MyNumberOpener
do {
    opener = try MyNumberOpener.required()
} catch {
    ProcessMain.exitWithConfigurationError("koki-relay", error)
}

// What the relay publishes besides transfers: koki's own topics and dead-letter references
// (Topics.all), and the runtime's sample worker's (KOKI_SAMPLE_*_TOPIC). Anything else is held —
// the audit checkpoints too: only the scheduler and the operators publish them.
let env = ProcessInfo.processInfo.environment
let sampleInput = env["KOKI_SAMPLE_INPUT_TOPIC"] ?? "sample.events.v1"
let ownTopics = Set(Topics.all.map(\.name).filter { !$0.hasPrefix("transfer.") && !Topics.inbound.map(\.name).contains($0) })
    .subtracting(Topics.operations.map(\.name))
    .union([env["KOKI_SAMPLE_OUTPUT_TOPIC"] ?? "sample.derived.v1", Topics.deadLetter(of: sampleInput)])

await ProcessMain.runRelay(name: "koki-relay", defaultHTTPPort: 9100, databaseRole: "koki_relay",
                           policy: TransferPolicy(opener: opener, ownTopics: ownTopics))
