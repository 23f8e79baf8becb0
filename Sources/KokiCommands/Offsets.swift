import ArgumentParser
import Foundation
import Postgres
import WorkerRuntime

/// `koki offsets …` — where each consumer group stands in each partition. The workers keep it in
/// PostgreSQL (`consumer_offsets`, moved in the same transaction as what they apply) and seek
/// to it when a partition is assigned: resetting a group's offsets in Kafka (a Kafka UI,
/// kafka-consumer-groups.sh) changes nothing. This is the tool, and every change is recorded.
struct Offsets: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "offsets",
        abstract: "Show or set the partitions' positions the workers read from (KOKI_DATABASE_URL).",
        subcommands: [Show.self, Set.self], defaultSubcommand: Show.self)

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Each group's next offset per partition.")
        @Option(help: "Only this consumer group.") var group: String?

        mutating func run() async throws {
            let group = self.group
            let rows = try await withDatabase { try OperatorActions.positions(group: group, on: $0) }
            if rows.isEmpty { print("no positions recorded"); return }
            print("group\ttopic\tpartition\tnext_offset\tupdated_at")
            let format = ISO8601DateFormatter()
            for r in rows { print("\(r.group)\t\(r.topic)\t\(r.partition)\t\(r.nextOffset)\t\(format.string(from: r.updatedAt))") }
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a partition's position (recorded in operator_actions with who and why).",
            discussion: """
                Stop the group's workers first: a worker reads its position when the partition is \
                assigned, and a batch in flight would not take the new one. Moving back re-reads \
                events (already applied ones are skipped by the inbox); moving forward skips events \
                for good — re-publish what must still be applied.
                """)
        @Option(help: "The consumer group (koki-resident-worker, koki-tax-worker, koki-payment-worker).") var group: String
        @Option(help: "The topic.") var topic: String
        @Option(help: "The partition.") var partition: Int32
        @Option(help: "The next offset the group reads.") var offset: Int64
        @Option(help: "Why (no personal data).") var reason: String
        @Option(help: "Who (default: $USER); the database login is recorded as well.") var operatorName: String?

        mutating func run() async throws {
            let (group, topic, partition, offset, reason) = (self.group, self.topic, self.partition, self.offset, self.reason)
            let by = operatorName ?? defaultOperator()
            do {
                let old = try await withDatabase {
                    try OperatorActions.setPosition(group: group, topic: topic, partition: partition, to: offset, reason: reason,
                                                    operatorName: by, on: $0)
                }
                print("\(group) \(topic)[\(partition)]: next offset \(old) → \(offset) (recorded)")
            } catch let error as OperatorActions.Refused {
                throw fail(error.description)
            }
        }
    }
}
