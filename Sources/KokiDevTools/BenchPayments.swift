import ArgumentParser
import Foundation
import Kafka
import KokiBase
import KokiCommands
import KokiEvents
import KokiStore
import KokiSynth
import PaymentWorker
import Postgres

/// `koki-dev bench payments` — a month of 収納 for the insured through koki-payment-worker.
struct PaymentsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "payments",
        abstract: "Payments/s of the payment worker: one month of payments for the insured (plans loaded with COPY).")

    @Option(help: "Insured people with an ordinary plan.") var insured: Int = 90_000
    @Option(parsing: .upToNextOption, help: "Batch sizes to measure.") var batchSizes: [Int] = [1000]

    mutating func run() async throws {
        let server = PostgresConnection.conninfo()
        let plans = SyntheticPayments.plans(people: insured, fiscalYear: 2026)
        let month = [EventFactory().businessDay(LocalDate(year: 2026, month: 7, day: 1)!)] + SyntheticPayments.month(plans, installment: 1)
        for batch in batchSizes {
            let cluster = try MockKafkaCluster(brokers: 3)
            // librdkafka's mock keeps at most 5 MB per partition and drops older messages: a
            // month produced up front needs more partitions than the contract's six.
            for topic in Topics.all {
                let partitions = topic.name == "collection.payments.v1" ? max(topic.partitions, month.count / 4_000 + 1) : topic.partitions
                try cluster.createTopic(topic.name, partitions: partitions, replicationFactor: 3)
            }
            let run = PipelineRun(cluster: cluster, server: server, tag: "\(UInt32.random(in: 0...UInt32.max))",
                                  topics: PaymentHandler.topics, handler: PaymentHandler(after: nil, clock: .replay), batch: batch, perEvent: false)
            // Two connections apply payments side by side: the money must still add up.
            let (applied, published, dead) = try await run.measure(month, prepare: { try SyntheticPayments.load(plans, into: $0) },
                                                                   check: { conn in
                let problems = try LedgerVerify.run(on: conn).problems
                guard problems.isEmpty else { throw fail("the ledger does not balance after the run (\(problems.count) problems)") }
            })
            BenchRecord.report(BenchFigure(name: "payment worker end to end, batch \(batch)", count: month.count, seconds: published,
                                           unit: "payments",
                                           detail: String(format: "all applied after %.3f s; %d dead-lettered; ledger verified",
                                                          applied, dead)))
        }
    }
}
