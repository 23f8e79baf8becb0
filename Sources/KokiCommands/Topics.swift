import ArgumentParser
import Foundation
import Kafka
import KokiEvents

/// `koki topics create|list` — koki's topics on a real cluster (the compose stack's setup step).
struct TopicsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topics", abstract: "koki's Kafka topics: create them on a cluster, or list them.",
        subcommands: [Create.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create every koki topic that is missing (KOKI_KAFKA_BROKERS and the security variables).")

        @Option(help: "Replicas per partition (3 in production; 1 for a one-broker stack).")
        var replicationFactor = 3

        @Option(help: "How long upstream topics and koki's own internal topics keep their messages, in days.")
        var inboundRetentionDays = Topics.Retention.standard.inboundDays

        @Option(help: "How long each destination's transfer topic and the notices topic keep their messages, in days.")
        var outboundRetentionDays = Topics.Retention.standard.outboundDays

        @Option(help: "How long dead-letter topics keep their references, in days.")
        var dlqRetentionDays = Topics.Retention.standard.deadLetterDays

        var retention: Topics.Retention {
            Topics.Retention(inboundDays: inboundRetentionDays, outboundDays: outboundRetentionDays, deadLetterDays: dlqRetentionDays)
        }

        static func definitions(replicationFactor: Int, retention: Topics.Retention) -> [NewTopic] {
            Topics.all.map { topic in
                NewTopic(name: topic.name, partitions: topic.partitions, replicationFactor: replicationFactor,
                         configs: Topics.configs(of: topic.name, replicationFactor: replicationFactor, retention: retention))
            }
        }

        func validate() throws {
            guard (1...10).contains(replicationFactor) else { throw ValidationError("--replication-factor must be 1 to 10") }
            for (flag, days) in [("--inbound-retention-days", inboundRetentionDays), ("--outbound-retention-days", outboundRetentionDays),
                                 ("--dlq-retention-days", dlqRetentionDays)] where !(1...3650).contains(days) {
                throw ValidationError("\(flag) must be 1 to 3650")
            }
        }

        mutating func run() async throws {
            let topics = Self.definitions(replicationFactor: replicationFactor, retention: retention)
            do {
                let config = try KafkaConfig.fromEnvironment(clientID: "koki-topics")
                let admin = try KafkaAdmin(config: config)
                try await admin.createTopics(topics, ignoreExisting: true, timeout: .seconds(30))
                let present = try await admin.metadata().topics
                let missing = topics.filter { present[$0.name] == nil }
                guard missing.isEmpty else { throw fail("topics still missing: \(missing.map(\.name).joined(separator: ", "))") }
                // An existing topic is left as it is; one with another partition count than the
                // contract's spreads keys differently and bounds replicas differently: say so.
                if let differing = Topics.partitionMismatches(present) {
                    throw fail("topics already present with another partition count than koki's contract: \(differing)")
                }
                print("koki topics: \(topics.count) topics present")
            } catch let error as KafkaError {
                throw fail(error.description)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print every koki topic with its partition count and the retention `create` gives it by default.")

        func run() {
            for topic in Topics.all {
                let ms = Topics.configs(of: topic.name, replicationFactor: 3, retention: .standard)["retention.ms"]!
                let days = ms == "-1" ? "kept" : "\(Int(ms)! / 86_400_000)d"
                print("\(topic.name)\t\(topic.partitions)\t\(days)")
            }
        }
    }
}
