/// A topic and partition number.
public struct TopicPartition: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let topic: String
    public let partition: Int32

    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public static func < (lhs: TopicPartition, rhs: TopicPartition) -> Bool {
        (lhs.topic, lhs.partition) < (rhs.topic, rhs.partition)
    }

    public var description: String { "\(topic)[\(partition)]" }
}

/// One Kafka header. The value may be absent (a null header).
public struct KafkaHeader: Sendable, Hashable {
    public let key: String
    public let value: [UInt8]?

    public init(_ key: String, _ value: [UInt8]?) {
        self.key = key
        self.value = value
    }

    public init(_ key: String, _ text: String) {
        self.init(key, Array(text.utf8))
    }
}

extension Array where Element == KafkaHeader {
    /// The value of the last header with this key, as UTF-8 text.
    public func text(_ key: String) -> String? {
        guard let header = last(where: { $0.key == key }), let value = header.value else { return nil }
        return String(decoding: value, as: UTF8.self)
    }
}

/// A message to produce. With no partition, librdkafka's partitioner hashes the key,
/// so one key's messages stay in one partition and in order.
public struct OutgoingMessage: Sendable {
    public var topic: String
    public var partition: Int32?
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [KafkaHeader]

    public init(topic: String, partition: Int32? = nil, key: [UInt8]?, value: [UInt8]?, headers: [KafkaHeader] = []) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
    }

    public init(topic: String, partition: Int32? = nil, key: String?, value: String?, headers: [KafkaHeader] = []) {
        self.init(topic: topic, partition: partition, key: key.map { Array($0.utf8) },
                  value: value.map { Array($0.utf8) }, headers: headers)
    }
}

/// Where a produced message landed.
public struct DeliveryReport: Sendable, Hashable {
    public let topic: String
    public let partition: Int32
    public let offset: Int64
}

/// A message as consumed, copied out of librdkafka's memory.
public struct ConsumedMessage: Sendable {
    public let topic: String
    public let partition: Int32
    public let offset: Int64
    public let key: [UInt8]?
    public let value: [UInt8]?
    public let headers: [KafkaHeader]
    /// Milliseconds since the epoch (create or log-append time), or nil if unknown.
    public let timestampMillis: Int64?

    public init(topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8]?,
                headers: [KafkaHeader], timestampMillis: Int64?) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestampMillis = timestampMillis
    }

    public var topicPartition: TopicPartition { TopicPartition(topic, partition) }
    public var keyText: String? { key.map { String(decoding: $0, as: UTF8.self) } }
}

/// What one poll drained: messages in arrival order, and consumer-level errors
/// (a missing topic, a broker transport failure) that did not stop the poll.
public struct PollResult: Sendable {
    public var messages: [ConsumedMessage] = []
    public var errors: [KafkaError] = []
    /// Partitions whose position the broker no longer has (deleted by retention before they
    /// were read), when the consumer's `offsetReset` is `error`: librdkafka stops fetching them.
    public var unreadable: [TopicPartition: KafkaError] = [:]

    /// The messages grouped per partition, each group in offset order.
    public var batches: [TopicPartition: [ConsumedMessage]] {
        Dictionary(grouping: messages, by: \.topicPartition)
    }
}
