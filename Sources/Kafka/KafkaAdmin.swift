internal import CLibrdkafka
import KokiBase

/// A topic to create.
public struct NewTopic: Sendable, Hashable {
    public let name: String
    public let partitions: Int
    public let replicationFactor: Int
    /// Topic configs set at creation (`min.insync.replicas`, `retention.ms` …).
    public let configs: [String: String]

    public init(name: String, partitions: Int, replicationFactor: Int = 1, configs: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.configs = configs
    }
}

/// What the cluster says it has.
public struct ClusterMetadata: Sendable {
    public let brokerIDs: [Int32]
    /// Partition count per topic.
    public let topics: [String: Int]
}

/// Topic administration against a real broker (CreateTopics), and cluster metadata.
public final class KafkaAdmin: Sendable {
    private let client: NativeClient
    private let blocking = BlockingQueue(label: "koki.kafka.admin")

    public init(config: KafkaConfig) throws {
        let conf = try NativeConf.make(config.resolved(defaults: []))
        client = NativeClient(pointer: try NativeConf.newHandle(RD_KAFKA_PRODUCER, conf: conf))
    }

    /// Creates the topics; with `ignoreExisting`, a topic that already exists is not an error.
    public func createTopics(_ topics: [NewTopic], ignoreExisting: Bool = true,
                             timeout: Duration = .seconds(10)) async throws {
        guard !topics.isEmpty else { return }
        let client = self.client
        try await blocking.run {
            try AdminCalls.createTopics(client.pointer, topics, ignoreExisting: ignoreExisting, timeout: timeout)
        }
    }

    public func metadata(timeout: Duration = .seconds(10)) async throws -> ClusterMetadata {
        let client = self.client
        return try await blocking.run { try AdminCalls.metadata(client.pointer, timeout: timeout) }
    }
}

enum AdminCalls {
    static func createTopics(_ rk: OpaquePointer, _ topics: [NewTopic], ignoreExisting: Bool,
                             timeout: Duration) throws {
        let queue = rd_kafka_queue_new(rk)
        defer { rd_kafka_queue_destroy(queue) }
        var newTopics: [OpaquePointer?] = []
        defer { newTopics.forEach { rd_kafka_NewTopic_destroy($0) } }
        for topic in topics {
            var errstr = [CChar](repeating: 0, count: 256)
            guard let native = rd_kafka_NewTopic_new(topic.name, Int32(topic.partitions),
                                                     Int32(topic.replicationFactor), &errstr, errstr.count) else {
                throw KafkaError(.admin, "invalid topic definition for \(topic.name)")
            }
            newTopics.append(native)
            for (name, value) in topic.configs.sorted(by: { $0.key < $1.key }) {
                let code = rd_kafka_NewTopic_set_config(native, name, value)
                if code != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(.admin, code, "setting \(name) of \(topic.name)") }
            }
        }
        let options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        var errstr = [CChar](repeating: 0, count: 256)
        _ = rd_kafka_AdminOptions_set_operation_timeout(options, timeout.clampedMilliseconds, &errstr, errstr.count)
        rd_kafka_CreateTopics(rk, &newTopics, newTopics.count, options, queue)
        guard let event = rd_kafka_queue_poll(queue, (timeout + .seconds(1)).clampedMilliseconds) else {
            throw KafkaError(.timeout, "CreateTopics got no answer in \(timeout)")
        }
        defer { rd_kafka_event_destroy(event) }
        let err = rd_kafka_event_error(event)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(.admin, err, String(cString: rd_kafka_event_error_string(event)))
        }
        guard let result = rd_kafka_event_CreateTopics_result(event) else {
            throw KafkaError(.admin, "CreateTopics returned an unexpected event")
        }
        var count = 0
        guard let results = rd_kafka_CreateTopics_result_topics(result, &count) else { return }
        for i in 0..<count {
            let code = rd_kafka_topic_result_error(results[i])
            if code == RD_KAFKA_RESP_ERR_NO_ERROR { continue }
            if code == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS && ignoreExisting { continue }
            let name = String(cString: rd_kafka_topic_result_name(results[i]))
            throw KafkaError(.admin, code, "creating \(name): \(KafkaErrorCode(code))")
        }
    }

    static func metadata(_ rk: OpaquePointer, timeout: Duration) throws -> ClusterMetadata {
        var md: UnsafePointer<rd_kafka_metadata>? = nil
        let code = rd_kafka_metadata(rk, 1, nil, &md, timeout.clampedMilliseconds)
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR, let md else { throw KafkaError(.metadata, code) }
        defer { rd_kafka_metadata_destroy(md) }
        let brokers = (0..<Int(md.pointee.broker_cnt)).map { md.pointee.brokers[$0].id }
        var topics: [String: Int] = [:]
        for i in 0..<Int(md.pointee.topic_cnt) {
            let t = md.pointee.topics[i]
            if t.err == RD_KAFKA_RESP_ERR_NO_ERROR { topics[String(cString: t.topic)] = Int(t.partition_cnt) }
        }
        return ClusterMetadata(brokerIDs: brokers.sorted(), topics: topics)
    }
}
