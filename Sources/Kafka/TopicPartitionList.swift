internal import CLibrdkafka

/// Call-scoped conversions between `[TopicPartition]` and librdkafka's partition lists.
/// The C list never leaves the closure that receives it.
enum TopicPartitionList {
    /// Builds a list, hands it to `body`, and destroys it afterwards.
    static func with<T>(_ entries: [(TopicPartition, Int64?)],
                        _ body: (UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) throws -> T) rethrows -> T {
        let list = rd_kafka_topic_partition_list_new(Int32(max(entries.count, 1)))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for (tp, offset) in entries {
            let element = rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition)!
            if let offset { element.pointee.offset = offset }
        }
        return try body(list)
    }

    static func with<T>(_ partitions: [TopicPartition],
                        _ body: (UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) throws -> T) rethrows -> T {
        try with(partitions.map { ($0, nil) }, body)
    }

    /// Copies a C list into Swift values: each partition with its offset and error.
    static func read(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>) -> [(TopicPartition, Int64, rd_kafka_resp_err_t)] {
        let count = Int(list.pointee.cnt)
        guard count > 0, let elems = list.pointee.elems else { return [] }
        return (0..<count).map { i in
            let e = elems[i]
            return (TopicPartition(String(cString: e.topic), e.partition), e.offset, e.err)
        }
    }

    /// The first per-partition error in a list, if any.
    static func firstError(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>, kind: KafkaError.Kind) -> KafkaError? {
        for (tp, _, err) in read(list) where err != RD_KAFKA_RESP_ERR_NO_ERROR {
            return KafkaError(kind, err, "\(tp): \(KafkaErrorCode(err))")
        }
        return nil
    }
}
