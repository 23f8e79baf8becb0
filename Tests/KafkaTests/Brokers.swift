import Foundation
import Kafka

/// A broker to run the wire suites against: librdkafka's in-process mock cluster, or
/// noida-db, a second broker nobody here wrote.
enum BrokerKind: String, CustomStringConvertible, CaseIterable, Sendable {
    case mock, noida

    var description: String { rawValue }

    /// A fresh topic on a broker of this kind; the returned value keeps the broker alive.
    func topic(partitions: Int) async throws -> TestBroker {
        let name = uniqueName("wire")
        switch self {
        case .mock:
            let cluster = try MockKafkaCluster(brokers: 3)
            try cluster.createTopic(name, partitions: partitions, replicationFactor: 3)
            return TestBroker(config: cluster.config(), topic: name, cluster: cluster, groupProperties: mockGroupProperties)
        case .noida:
            let config = KafkaConfig(bootstrapServers: try Noida.bootstrap())
            try await KafkaAdmin(config: config).createTopics([NewTopic(name: name, partitions: partitions)],
                                                              ignoreExisting: false)
            // Like Apache Kafka, noida refuses session time-outs under 6 s.
            return TestBroker(config: config, topic: name, cluster: nil,
                              groupProperties: ["session.timeout.ms": "10000", "heartbeat.interval.ms": "1000"])
        }
    }
}

struct TestBroker: Sendable {
    /// For producers and admin clients.
    let config: KafkaConfig
    let topic: String
    let cluster: MockKafkaCluster?
    let groupProperties: [String: String]

    /// For group members.
    var consumerConfig: KafkaConfig {
        var config = config
        config.properties.merge(groupProperties) { _, new in new }
        return config
    }
}
