internal import CLibrdkafka

/// Kafka API keys the mock cluster can be told to fail.
public enum KafkaAPIKey: Int16, Sendable {
    case produce = 0, fetch = 1, listOffsets = 2, metadata = 3
    case offsetCommit = 8, offsetFetch = 9, findCoordinator = 10, joinGroup = 11
    case heartbeat = 12, leaveGroup = 13, syncGroup = 14, apiVersions = 18, initProducerID = 22
}

/// librdkafka's own mock cluster: N brokers that speak the real Kafka protocol on
/// 127.0.0.1 TCP, in this process. Tests and the local stack use it; production uses
/// Apache Kafka.
///
/// `@unchecked Sendable`: every mock call posts an operation to the cluster's own thread
/// (librdkafka's rdkafka_mock.c), so it is safe from any thread; the two handles are
/// owned here and freed in `deinit`, the cluster before the client that hosts it.
public final class MockKafkaCluster: @unchecked Sendable {
    private let client: OpaquePointer
    private let cluster: OpaquePointer
    public let bootstrapServers: String
    public let brokerIDs: [Int32]

    public init(brokers: Int = 3) throws {
        precondition(brokers >= 1, "a cluster needs a broker")
        let conf = try NativeConf.make([("log_level", "3")])
        client = try NativeConf.newHandle(RD_KAFKA_PRODUCER, conf: conf)
        guard let cluster = rd_kafka_mock_cluster_new(client, Int32(brokers)) else {
            rd_kafka_destroy(client)
            throw KafkaError(.mock, "rd_kafka_mock_cluster_new failed")
        }
        self.cluster = cluster
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
        brokerIDs = (1...Int32(brokers)).map { $0 }
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster)
        rd_kafka_destroy(client)
    }

    /// What a client of the mock needs that a client of a real broker does not: the mock
    /// answers a fetch only when `fetch.wait.max.ms` runs out, even with data waiting (a real
    /// broker answers at `fetch.min.bytes`), so librdkafka's default of 500 ms would put half
    /// a second on every fetch past the first megabyte of a partition.
    public static let clientProperties = ["fetch.wait.max.ms": "10"]

    /// A config that connects to this cluster; `properties` win over `clientProperties`.
    public func config(clientID: String = "koki", properties: [String: String] = [:]) -> KafkaConfig {
        KafkaConfig(bootstrapServers: bootstrapServers, clientID: clientID,
                    properties: Self.clientProperties.merging(properties) { $1 })
    }

    public func createTopic(_ name: String, partitions: Int, replicationFactor: Int = 1) throws {
        let code = rd_kafka_mock_topic_create(cluster, name, Int32(partitions), Int32(replicationFactor))
        if code != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(.mock, code, "creating \(name): \(KafkaErrorCode(code))") }
    }

    public func createTopics(_ topics: [NewTopic]) throws {
        for topic in topics {
            try createTopic(topic.name, partitions: topic.partitions,
                            replicationFactor: min(topic.replicationFactor, brokerIDs.count))
        }
    }

    /// Takes a broker off the network (its connections are closed and refused).
    public func setBrokerDown(_ id: Int32) throws {
        let code = rd_kafka_mock_broker_set_down(cluster, id)
        if code != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(.mock, code) }
    }

    public func setBrokerUp(_ id: Int32) throws {
        let code = rd_kafka_mock_broker_set_up(cluster, id)
        if code != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(.mock, code) }
    }

    public func setAllBrokers(up: Bool) throws {
        for id in brokerIDs { try up ? setBrokerUp(id) : setBrokerDown(id) }
    }

    /// Delays every response from a broker.
    public func setRoundTrip(_ id: Int32, milliseconds: Int) throws {
        let code = rd_kafka_mock_broker_set_rtt(cluster, id, Int32(milliseconds))
        if code != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(.mock, code) }
    }

    /// The next requests of this kind (to any broker) fail with these errors, one each.
    public func pushRequestErrors(_ apiKey: KafkaAPIKey, _ errors: [KafkaErrorCode]) {
        let native = errors.map { rd_kafka_resp_err_t(rawValue: $0.rawValue) }
        native.withUnsafeBufferPointer { buffer in
            rd_kafka_mock_push_request_errors_array(cluster, apiKey.rawValue, buffer.count, buffer.baseAddress)
        }
    }

    /// Restricts the versions the cluster advertises for an API (older clients need it).
    public func setAPIVersion(_ apiKey: KafkaAPIKey, min: Int16, max: Int16) throws {
        let code = rd_kafka_mock_set_apiversion(cluster, apiKey.rawValue, min, max)
        if code != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(.mock, code) }
    }
}
