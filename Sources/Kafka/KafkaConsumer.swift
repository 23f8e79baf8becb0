internal import CLibrdkafka
import Foundation
import KokiBase
import Synchronization

/// Special offsets librdkafka understands when assigning or seeking.
public enum KafkaOffset {
    public static let beginning: Int64 = -2
    public static let end: Int64 = -1
    /// The group's committed offset (or `auto.offset.reset` if none).
    public static let stored: Int64 = -1000
}

/// Where a consumer reads from when the broker no longer has its position
/// (librdkafka's `auto.offset.reset`).
public enum OffsetReset: String, Sendable {
    /// The earliest message the broker still has.
    case earliest
    /// The next message to arrive.
    case latest
    /// Nowhere: the partition is reported in `PollResult.unreadable` and librdkafka stops
    /// fetching it.
    case error
}

/// What the owner of a consumer does when the group moves partitions. Both hooks run
/// on the consumer's own thread, inside `poll` or `close`, before librdkafka proceeds:
/// `revoked` must finish (or abandon, when `lost`) the work in flight for those
/// partitions before it returns; `assigned` returns where to start reading each
/// partition (a partition left out starts from the group's committed offset).
public struct RebalanceHooks: Sendable {
    public var assigned: @Sendable (_ partitions: [TopicPartition]) -> [TopicPartition: Int64]
    public var revoked: @Sendable (_ partitions: [TopicPartition], _ lost: Bool) -> Void

    public init(assigned: @escaping @Sendable ([TopicPartition]) -> [TopicPartition: Int64] = { _ in [:] },
                revoked: @escaping @Sendable ([TopicPartition], Bool) -> Void = { _, _ in }) {
        self.assigned = assigned
        self.revoked = revoked
    }
}

/// A consumer in a group, cooperative-sticky by default, with auto-commit off: the
/// owner decides what is consumed (koki keeps offsets in PostgreSQL and commits to
/// Kafka only so lag tools work).
///
/// `poll` and `close` block inside librdkafka, so they run on this consumer's own
/// thread; pause, resume, seek, commit and the cached watermarks are non-blocking and
/// thread-safe, so they may be called from anywhere — including the rebalance hooks.
public final class KafkaConsumer: Sendable {
    private let client: NativeClient
    private let context: ConsumerContext
    private let thread = BlockingQueue(label: "koki.kafka.consumer")
    private let queries = BlockingQueue(label: "koki.kafka.consumer.queries")
    public let groupID: String

    /// The config's own `properties` override the defaults koki sets here.
    /// - Parameter offsetReset: where to read from when the broker no longer has the position.
    public init(config: KafkaConfig, groupID: String, hooks: RebalanceHooks = RebalanceHooks(),
                assignmentStrategy: String = "cooperative-sticky", offsetReset: OffsetReset = .earliest) throws {
        self.groupID = groupID
        let defaults: [(String, String)] = [
            ("group.id", groupID),
            ("partition.assignment.strategy", assignmentStrategy),
            ("enable.auto.commit", "false"),
            ("enable.auto.offset.store", "false"),
            ("auto.offset.reset", offsetReset.rawValue),
            ("enable.partition.eof", "false"),
        ]
        let conf = try NativeConf.make(config.resolved(defaults: defaults))
        let context = ConsumerContext(hooks: hooks)
        // librdkafka keeps this pointer; the NativeClient below holds the context and
        // destroys the handle before releasing it.
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(context).toOpaque())
        rd_kafka_conf_set_rebalance_cb(conf, consumerRebalanceCallback)
        let handle = try NativeConf.newHandle(RD_KAFKA_CONSUMER, conf: conf)
        self.client = NativeClient(pointer: handle, context: context)
        self.context = context
        // Route the main queue (errors, rebalances) to the consumer queue served by poll.
        rd_kafka_poll_set_consumer(handle)
    }

    public func subscribe(_ topics: [String]) throws {
        let code = TopicPartitionList.with(topics.map { TopicPartition($0, -1) }) { list in
            rd_kafka_subscribe(client.pointer, list)
        }
        if code != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(.subscription, code) }
    }

    /// Drains up to `maxMessages`, waiting at most `timeout` for the first one and then
    /// taking only what is already fetched. Rebalance hooks may run during the call.
    public func poll(maxMessages: Int, timeout: Duration) async throws -> PollResult {
        let client = self.client
        return try await thread.run { ConsumerPoll.drain(client.pointer, maxMessages: maxMessages, timeout: timeout) }
    }

    /// The same, for an owner that already runs on a thread of its own (never from async code).
    public func pollBlocking(maxMessages: Int, timeout: Duration) -> PollResult {
        let client = self.client
        var result = thread.sync { ConsumerPoll.drain(client.pointer, maxMessages: maxMessages, timeout: timeout) }
        // Rebalance calls that failed inside the poll (they cannot throw from librdkafka's callback).
        result.errors += context.takeErrors()
        return result
    }

    /// Partitions currently assigned to this member, as the rebalance hooks saw them.
    public var assignment: Set<TopicPartition> { context.assignment }

    /// Stops fetching these partitions; messages already fetched for them are dropped
    /// by librdkafka, and `resume` continues from the last consumed position.
    public func pause(_ partitions: [TopicPartition]) throws {
        try pauseResume(partitions, pause: true)
    }

    public func resume(_ partitions: [TopicPartition]) throws {
        try pauseResume(partitions, pause: false)
    }

    private func pauseResume(_ partitions: [TopicPartition], pause: Bool) throws {
        guard !partitions.isEmpty else { return }
        try TopicPartitionList.with(partitions) { list in
            let code = pause ? rd_kafka_pause_partitions(client.pointer, list)
                             : rd_kafka_resume_partitions(client.pointer, list)
            if code != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(.consume, code) }
            if let error = TopicPartitionList.firstError(list, kind: .consume) { throw error }
        }
    }

    /// Moves the fetch position of assigned partitions (asynchronously: the next fetch
    /// starts there). Use it to re-read a batch that is to be retried.
    public func seek(_ offsets: [TopicPartition: Int64]) throws {
        guard !offsets.isEmpty else { return }
        try TopicPartitionList.with(offsets.map { ($0.key, $0.value) }) { list in
            if let error = KafkaError.consuming(rd_kafka_seek_partitions(client.pointer, list, 0), kind: .seek) {
                throw error
            }
            // An asynchronous seek marks each partition "in progress"; only other codes fail.
            for (tp, _, err) in TopicPartitionList.read(list)
            where err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__IN_PROGRESS {
                throw KafkaError(.seek, err, "\(tp): \(KafkaErrorCode(err))")
            }
        }
    }

    /// Commits "next offset to read" per partition to the group, asynchronously and
    /// best-effort (a commit during a rebalance may be refused; the next one repairs it).
    public func commit(_ nextOffsets: [TopicPartition: Int64]) throws {
        guard !nextOffsets.isEmpty else { return }
        let code = TopicPartitionList.with(nextOffsets.map { ($0.key, $0.value) }) { list in
            rd_kafka_commit(client.pointer, list, 1)
        }
        if code != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(.commit, code) }
    }

    /// The group's committed offsets, asked of the coordinator.
    public func committed(_ partitions: [TopicPartition], timeout: Duration) async throws -> [TopicPartition: Int64] {
        let client = self.client
        return try await queries.run {
            try TopicPartitionList.with(partitions) { list in
                let code = rd_kafka_committed(client.pointer, list, timeout.clampedMilliseconds)
                if code != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(.commit, code) }
                return Dictionary(TopicPartitionList.read(list).map { ($0.0, $0.1) }, uniquingKeysWith: { $1 })
            }
        }
    }

    /// Low and high watermarks asked of the partition leader.
    public func queryWatermarks(_ tp: TopicPartition, timeout: Duration) async throws -> (low: Int64, high: Int64) {
        let client = self.client
        return try await queries.run {
            var low: Int64 = 0, high: Int64 = 0
            let code = rd_kafka_query_watermark_offsets(client.pointer, tp.topic, tp.partition, &low, &high,
                                                        timeout.clampedMilliseconds)
            if code != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(.metadata, code) }
            return (low, high)
        }
    }

    /// The watermarks from the last fetch response, without a round trip (for lag metrics).
    public func cachedWatermarks(_ tp: TopicPartition) -> (low: Int64, high: Int64)? {
        var low: Int64 = -1, high: Int64 = -1
        let code = rd_kafka_get_watermark_offsets(client.pointer, tp.topic, tp.partition, &low, &high)
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR, high >= 0 else { return nil }
        return (low, high)
    }

    /// `close` for an owner on a thread of its own: blocks until the member has left.
    public func closeBlocking() throws {
        let client = self.client
        let code = thread.sync { () -> Int32 in
            guard !client.consumerClosed.load(ordering: .acquiring) else { return 0 }
            let code = rd_kafka_consumer_close(client.pointer)
            client.consumerClosed.store(true, ordering: .releasing)
            return code.rawValue
        }
        if code != 0 { throw KafkaError(.closed, code: KafkaErrorCode(rawValue: code), "consumer close failed") }
    }

    /// Leaves the group cleanly: the revoke hook runs for every assigned partition, then
    /// the member leaves so the others take its partitions at once. Throws `.timeout`
    /// if that takes longer than `timeout` (the close still completes in the background).
    public func close(timeout: Duration = .seconds(10)) async throws {
        let client = self.client
        let promise = Promise<Void>()
        thread.schedule {
            guard !client.consumerClosed.load(ordering: .acquiring) else {
                promise.complete(.success(()))
                return
            }
            let code = rd_kafka_consumer_close(client.pointer)
            client.consumerClosed.store(true, ordering: .releasing)
            promise.complete(code == RD_KAFKA_RESP_ERR_NO_ERROR ? .success(()) : .failure(KafkaError(.closed, code)))
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await promise.value }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw KafkaError(.timeout, "consumer close took longer than \(timeout)")
            }
            try await group.next()
            group.cancelAll()
        }
    }
}

/// State the rebalance callback reaches through librdkafka's opaque pointer.
final class ConsumerContext: Sendable {
    let hooks: RebalanceHooks
    private let assigned = Mutex<Set<TopicPartition>>([])

    init(hooks: RebalanceHooks) { self.hooks = hooks }

    var assignment: Set<TopicPartition> { assigned.withLock { $0 } }

    func rebalance(_ rk: OpaquePointer, _ err: rd_kafka_resp_err_t,
                   _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {
        let cooperative = rd_kafka_rebalance_protocol(rk).map { String(cString: $0) } == "COOPERATIVE"
        let partitions = TopicPartitionList.read(list).map(\.0)
        switch err {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            let offsets = hooks.assigned(partitions)
            if let elems = list.pointee.elems {
                for i in 0..<Int(list.pointee.cnt) {
                    let tp = TopicPartition(String(cString: elems[i].topic), elems[i].partition)
                    if let offset = offsets[tp] { elems[i].offset = offset }
                }
            }
            if cooperative {
                record(KafkaError.consuming(rd_kafka_incremental_assign(rk, list), kind: .rebalance))
            } else {
                record(rd_kafka_assign(rk, list), "assigning partitions")
            }
            assigned.withLock { $0.formUnion(partitions) }
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            let lost = rd_kafka_assignment_lost(rk) != 0
            hooks.revoked(partitions, lost)
            if cooperative {
                record(KafkaError.consuming(rd_kafka_incremental_unassign(rk, list), kind: .rebalance))
            } else {
                record(rd_kafka_assign(rk, nil), "revoking partitions")
            }
            assigned.withLock { $0.subtract(partitions) }
        default:
            // librdkafka: on a rebalance error, drop the assignment and let the group heal —
            // under the cooperative protocol by an incremental unassign of what is held (a plain
            // assign(NULL) is refused there, and the partitions would stay idle).
            let current = Array(assignment)
            hooks.revoked(current, true)
            if cooperative {
                if !current.isEmpty {
                    TopicPartitionList.with(current) { held in
                        record(KafkaError.consuming(rd_kafka_incremental_unassign(rk, held), kind: .rebalance))
                    }
                }
            } else {
                record(rd_kafka_assign(rk, nil), "dropping the assignment")
            }
            assigned.withLock { $0.removeAll() }
            record(KafkaError(.rebalance, err, "rebalance failed; the assignment was dropped"))
        }
    }

    private let errors = Mutex<[KafkaError]>([])

    private func record(_ error: KafkaError?) {
        guard let error else { return }
        errors.withLock { $0.append(error) }
    }

    private func record(_ code: rd_kafka_resp_err_t, _ what: String) {
        guard code != RD_KAFKA_RESP_ERR_NO_ERROR else { return }
        record(KafkaError(.rebalance, code, what))
    }

    /// The rebalance errors since the last call.
    func takeErrors() -> [KafkaError] {
        errors.withLock { errors in
            defer { errors.removeAll() }
            return errors
        }
    }
}

/// A non-capturing C function, as librdkafka requires; its context is the opaque
/// pointer set on the conf, which the consumer's NativeClient keeps alive.
private let consumerRebalanceCallback: @convention(c) (
    OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, UnsafeMutableRawPointer?
) -> Void = { rk, err, list, opaque in
    guard let rk, let list, let opaque else { return }
    Unmanaged<ConsumerContext>.fromOpaque(opaque).takeUnretainedValue().rebalance(rk, err, list)
}

enum ConsumerPoll {
    static func drain(_ rk: OpaquePointer, maxMessages: Int, timeout: Duration) -> PollResult {
        var result = PollResult()
        result.messages.reserveCapacity(min(maxMessages, 4096))
        let deadline = ContinuousClock.now + timeout
        var wait = timeout.clampedMilliseconds
        while result.messages.count < maxMessages {
            guard let message = rd_kafka_consumer_poll(rk, wait) else {
                // Nothing more within the wait: return what we have, or keep waiting for a
                // first message until the deadline.
                if !result.messages.isEmpty || ContinuousClock.now >= deadline { break }
                wait = (deadline - ContinuousClock.now).clampedMilliseconds
                continue
            }
            defer { rd_kafka_message_destroy(message) }
            wait = 0
            let err = message.pointee.err
            if err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET, let topic = message.pointee.rkt {
                let tp = TopicPartition(String(cString: rd_kafka_topic_name(topic)), message.pointee.partition)
                result.unreadable[tp] = KafkaError(.consume, err, String(cString: rd_kafka_message_errstr(message)))
                continue
            }
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                if err != RD_KAFKA_RESP_ERR__PARTITION_EOF { result.errors.append(KafkaError(.consume, err)) }
                continue
            }
            result.messages.append(copy(message))
        }
        return result
    }

    /// Copies a message out of librdkafka's memory before it is destroyed.
    static func copy(_ message: UnsafeMutablePointer<rd_kafka_message_t>) -> ConsumedMessage {
        let m = message.pointee
        func bytes(_ pointer: UnsafeMutableRawPointer?, _ count: Int) -> [UInt8]? {
            guard let pointer else { return nil }
            return Array(UnsafeRawBufferPointer(start: pointer, count: count))
        }
        var headers: [KafkaHeader] = []
        var native: OpaquePointer? = nil
        if rd_kafka_message_headers(message, &native) == RD_KAFKA_RESP_ERR_NO_ERROR, let native {
            var index = 0
            var name: UnsafePointer<CChar>? = nil
            var value: UnsafeRawPointer? = nil
            var size = 0
            while rd_kafka_header_get_all(native, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                let data = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }
                headers.append(KafkaHeader(name.map { String(cString: $0) } ?? "", data))
                index += 1
            }
        }
        var tsType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let ts = rd_kafka_message_timestamp(message, &tsType)
        return ConsumedMessage(topic: String(cString: rd_kafka_topic_name(m.rkt)), partition: m.partition,
                               offset: m.offset, key: bytes(m.key, m.key_len), value: bytes(m.payload, m.len),
                               headers: headers, timestampMillis: ts >= 0 ? ts : nil)
    }
}
