import ArgumentParser
import Foundation
import Kafka
import KokiBase
import KokiCommands
import KokiEvents
import KokiSecrets
import KokiStore
import KokiSynth
import Postgres
import ResidentWorker

/// `koki-dev bench resident` — koki-resident-worker end to end on a synthetic city's resident
/// register (every resident's record, then a year of moves, deaths and household changes).
struct ResidentBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resident",
        abstract: "End-to-end events/s of the resident worker on synthetic residents, at several batch sizes.")

    @Option(help: "Synthetic residents (about 1.1 events each).")
    var residents: Int = 20_000

    @Option(parsing: .upToNextOption, help: "Batch sizes to measure.")
    var batchSizes: [Int] = [100, 1000, 3000]

    @Option(help: "Also measure one transaction per event on this many residents (0: skip).")
    var perEventResidents: Int = 2_000

    @Option(help: "Runs per batch size; the figure is the median run (its detail lists them all).")
    var runs: Int = 1

    mutating func run() async throws {
        let server = PostgresConnection.conninfo()
        var measurements = batchSizes.map { (residents, $0, false) }
        if perEventResidents > 0 { measurements.append((perEventResidents, 1000, true)) }
        for (count, batch, perEvent) in measurements {
            var options = SyntheticResidents.Options()
            options.residents = count
            let messages = SyntheticResidents.events(options)
            let ((applied, published, deadLetters), spread) = try await MedianRun.of(
                perEvent ? 1 : runs, events: messages.count, seconds: \.1) {
                // A fresh cluster per run: the worker's topics have fixed names.
                let cluster = try MockKafkaCluster(brokers: 3)
                for topic in Topics.all {
                    try cluster.createTopic(topic.name, partitions: topic.partitions, replicationFactor: 3)
                }
                let run = PipelineRun(cluster: cluster, server: server, tag: "\(UInt32.random(in: 0...UInt32.max))",
                                      topics: ResidentHandler.topics, handler: ResidentHandler(myNumbers: try MyNumberIntake.benchIntake(), clock: .replay),
                                      batch: batch, perEvent: perEvent)
                return try await run.measure(messages)
            }
            let mode = perEvent ? "per-event transactions" : "batch \(batch)"
            BenchRecord.report(BenchFigure(name: "resident worker end to end, \(mode)", count: messages.count, seconds: published,
                                           unit: "events",
                                           detail: String(format: "all applied after %.3f s; %d dead-lettered", applied, deadLetters)
                                               + spread))
        }
    }
}
