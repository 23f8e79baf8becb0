internal import CLibrdkafka

/// A librdkafka error code, kept as a plain number so no C enum crosses the module.
public struct KafkaErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let noError = KafkaErrorCode(rawValue: 0)
    public static let notLeaderForPartition = KafkaErrorCode(rawValue: RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION.rawValue)
    public static let requestTimedOut = KafkaErrorCode(rawValue: RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT.rawValue)
    public static let notEnoughReplicas = KafkaErrorCode(rawValue: RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS.rawValue)
    public static let leaderNotAvailable = KafkaErrorCode(rawValue: RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE.rawValue)
    public static let topicAlreadyExists = KafkaErrorCode(rawValue: RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS.rawValue)
    public static let queueFull = KafkaErrorCode(rawValue: RD_KAFKA_RESP_ERR__QUEUE_FULL.rawValue)
    public static let timedOut = KafkaErrorCode(rawValue: RD_KAFKA_RESP_ERR__TIMED_OUT.rawValue)
    public static let messageTimedOut = KafkaErrorCode(rawValue: RD_KAFKA_RESP_ERR__MSG_TIMED_OUT.rawValue)
    public static let allBrokersDown = KafkaErrorCode(rawValue: RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN.rawValue)
    public static let fatal = KafkaErrorCode(rawValue: RD_KAFKA_RESP_ERR__FATAL.rawValue)
    public static let unknownTopicOrPartition = KafkaErrorCode(rawValue: RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART.rawValue)

    init(_ code: rd_kafka_resp_err_t) { self.rawValue = code.rawValue }

    /// librdkafka's own text for the code (names the condition; carries no message data).
    public var description: String {
        String(cString: rd_kafka_err2str(rd_kafka_resp_err_t(rawValue: rawValue)))
    }

    /// librdkafka's name for the code (`MSG_TIMED_OUT`, `_ALL_BROKERS_DOWN` …): a metric label.
    public var name: String {
        String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(rawValue: rawValue)))
    }
}

/// One error type for the wrapper. Its description names the operation and the
/// librdkafka condition only — never a key, a header or a payload — so it is safe to log.
public struct KafkaError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case configuration, clientCreation, produce, delivery, consume, subscription
        case rebalance, commit, seek, admin, metadata, timeout, closed, mock
    }

    public let kind: Kind
    public let code: KafkaErrorCode
    public let message: String

    public init(_ kind: Kind, code: KafkaErrorCode = .noError, _ message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    init(_ kind: Kind, _ code: rd_kafka_resp_err_t, _ message: String? = nil) {
        self.init(kind, code: KafkaErrorCode(code), message ?? KafkaErrorCode(code).description)
    }

    /// Consumes (and frees) an `rd_kafka_error_t`; nil when there was none.
    static func consuming(_ error: OpaquePointer?, kind: Kind) -> KafkaError? {
        guard let error else { return nil }
        defer { rd_kafka_error_destroy(error) }
        return KafkaError(kind, rd_kafka_error_code(error), String(cString: rd_kafka_error_string(error)))
    }

    /// A delivery the cluster will refuse however often it is tried: the message is too large,
    /// the producer may not write the topic, the topic or partition does not exist, or the
    /// broker refuses the record. The relay holds such a row (and the later rows of its key)
    /// instead of retrying it forever.
    public var isPermanentForMessage: Bool {
        KafkaError.permanentDeliveryCodes.contains(code.rawValue)
    }

    static let permanentDeliveryCodes: Set<Int32> = [
        RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE.rawValue,
        RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE.rawValue, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED.rawValue,
        RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED.rawValue, RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED.rawValue,
        RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART.rawValue, RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC.rawValue,
        RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION.rawValue, RD_KAFKA_RESP_ERR_INVALID_RECORD.rawValue,
        RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE.rawValue, RD_KAFKA_RESP_ERR__INVALID_ARG.rawValue,
        RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION.rawValue, RD_KAFKA_RESP_ERR_POLICY_VIOLATION.rawValue,
    ]

    /// Worth retrying: the broker or network may recover (outages, leader moves, time-outs).
    public var isTransient: Bool {
        switch kind {
        case .configuration, .clientCreation, .closed, .subscription: return false
        default: return code != .fatal
        }
    }

    public var description: String {
        code == .noError ? "kafka \(kind.rawValue): \(message)"
                         : "kafka \(kind.rawValue) [\(code.rawValue)]: \(message)"
    }
}
