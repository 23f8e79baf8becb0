internal import CLibrdkafka

/// The librdkafka this process runs with (for benchmark records and diagnostics).
public enum KafkaVersion {
    public static var string: String { String(cString: rd_kafka_version_str()) }
}
