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

        @Option(help: "How long dead-letter topics keep their messages, in days.")
        var dlqRetentionDays = 14

        static func definitions(replicationFactor: Int, dlqRetentionDays: Int) -> [NewTopic] {
            Topics.all.map { topic in
                NewTopic(name: topic.name, partitions: topic.partitions, replicationFactor: replicationFactor,
                         configs: Topics.configs(of: topic.name, replicationFactor: replicationFactor, dlqRetentionDays: dlqRetentionDays))
            }
        }

        func validate() throws {
            guard (1...10).contains(replicationFactor) else { throw ValidationError("--replication-factor must be 1 to 10") }
            guard (1...3650).contains(dlqRetentionDays) else { throw ValidationError("--dlq-retention-days must be 1 to 3650") }
        }

        mutating func run() async throws {
            let topics = Self.definitions(replicationFactor: replicationFactor, dlqRetentionDays: dlqRetentionDays)
            do {
                let config = try KafkaConfig.fromEnvironment(clientID: "koki-topics")
                let admin = try KafkaAdmin(config: config)
                try await admin.createTopics(topics, ignoreExisting: true, timeout: .seconds(30))
                let present = try await admin.metadata().topics
                let missing = topics.filter { present[$0.name] == nil }
                guard missing.isEmpty else { throw fail("topics still missing: \(missing.map(\.name).joined(separator: ", "))") }
                print("koki topics: \(topics.count) topics present")
            } catch let error as KafkaError {
                throw fail(error.description)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print every koki topic with its partition count.")

        func run() {
            for topic in Topics.all { print("\(topic.name)\t\(topic.partitions)") }
        }
    }
}
