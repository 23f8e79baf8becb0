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

        mutating func run() async throws {
            let topics = Topics.all.map { NewTopic(name: $0.name, partitions: $0.partitions, replicationFactor: replicationFactor) }
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
