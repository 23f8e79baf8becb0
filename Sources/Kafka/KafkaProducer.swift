internal import CLibrdkafka
import Foundation
import KokiBase
import Synchronization

/// An idempotent producer (`enable.idempotence=true`, `acks=all`): librdkafka retries
/// failed sends without duplicating or reordering messages within a partition.
///
/// Delivery reports arrive as events on librdkafka's main queue, served by one
/// dedicated poll thread; each awaited send resumes when its own report arrives.
public final class KafkaProducer: Sendable {
    private let client: NativeClient
    private let registry = DeliveryRegistry()
    private let pollThread: PollThread
    private let blocking = BlockingQueue(label: "koki.kafka.producer.flush")

    /// - Parameter onError: called on the poll thread for client-level errors
    ///   (a broker down, a fatal idempotence error); descriptions are safe to log.
    /// - Parameter linger: how long librdkafka waits to fill a batch (`linger.ms`, which the
    ///   config's properties still override); a caller that hands over whole batches and
    ///   waits for them gains nothing from waiting.
    public init(config: KafkaConfig, idempotent: Bool = true, linger: Duration = .milliseconds(5),
                onError: (@Sendable (KafkaError) -> Void)? = nil) throws {
        var defaults: [(String, String)] = [("linger.ms", "\(linger.clampedMilliseconds)")]
        if idempotent {
            // Gapless: a failure that could leave a gap in a partition's sequence is a fatal
            // error (the owner replaces the producer) instead of a silently broken order.
            defaults += [("enable.idempotence", "true"), ("acks", "all"), ("enable.gapless.guarantee", "true")]
        }
        let conf = try NativeConf.make(config.resolved(defaults: defaults))
        rd_kafka_conf_set_events(conf, Int32(RD_KAFKA_EVENT_DR | RD_KAFKA_EVENT_ERROR))
        let client = NativeClient(pointer: try NativeConf.newHandle(RD_KAFKA_PRODUCER, conf: conf))
        self.client = client
        let registry = self.registry
        let queue = QueueRef(rd_kafka_queue_get_main(client.pointer)!, of: client)
        pollThread = PollThread(name: "koki-kafka-producer") {
            ProducerEvents.serve(queue: queue, registry: registry, onError: onError)
        }
    }

    deinit {
        pollThread.stop()
        registry.failAll(KafkaError(.closed, "producer closed before delivery"))
    }

    /// Looks up each topic's partitions and leaders now, so the first message to it does not
    /// wait for that (a long-lived producer has long done so).
    public func prepare(topics: [String], timeout: Duration = .seconds(10)) throws {
        for name in topics {
            guard let topic = rd_kafka_topic_new(client.pointer, name, nil) else {
                throw KafkaError(.metadata, rd_kafka_last_error(), "opening \(name)")
            }
            defer { rd_kafka_topic_destroy(topic) }
            var md: UnsafePointer<rd_kafka_metadata>? = nil
            let code = rd_kafka_metadata(client.pointer, 0, topic, &md, timeout.clampedMilliseconds)
            if let md { rd_kafka_metadata_destroy(md) }
            if code != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(.metadata, code, "looking up \(name)") }
        }
    }

    /// Enqueues one message and waits for its delivery report.
    public func send(_ message: OutgoingMessage) async throws -> DeliveryReport {
        let promise = Promise<DeliveryReport>()
        try await enqueue(message) { promise.complete($0.mapError { $0 }) }
        return try await promise.value
    }

    /// Enqueues every message, then waits for all reports; results are in input order.
    public func send(_ messages: [OutgoingMessage]) async throws -> [Result<DeliveryReport, KafkaError>] {
        guard !messages.isEmpty else { return [] }
        let pending = PendingDeliveries(count: messages.count)
        for (index, message) in messages.enumerated() {
            try await enqueue(message) { pending.set(index, $0) }
        }
        return try await pending.promise.value
    }

    /// Hands a message to librdkafka; `completion` runs on the poll thread with its report.
    /// Waits (without blocking a thread) while librdkafka's local queue is full.
    public func enqueue(_ message: OutgoingMessage,
                        completion: @escaping @Sendable (Result<DeliveryReport, KafkaError>) -> Void) async throws {
        let id = registry.register(completion)
        while true {
            let code = produce(message, id: id)
            if code == RD_KAFKA_RESP_ERR_NO_ERROR { return }
            if code == RD_KAFKA_RESP_ERR__QUEUE_FULL {
                try await Task.sleep(for: .milliseconds(2))
                continue
            }
            _ = registry.take(id)
            throw KafkaError(.produce, code)
        }
    }

    /// For an owner on a thread of its own: enqueues every message (sleeping while the
    /// local queue is full) and blocks until each has its delivery report. Never call it
    /// from async code.
    public func sendBlocking(_ messages: [OutgoingMessage]) -> [Result<DeliveryReport, KafkaError>] {
        startSending(messages).wait()
    }

    /// For an owner on a thread of its own: enqueues every message (sleeping while the local
    /// queue is full) and returns at once; the reports arrive in the returned batch. Batches
    /// started one after another keep their order per partition (the idempotent producer).
    public func startSending(_ messages: [OutgoingMessage]) -> PendingDeliveries {
        let pending = PendingDeliveries(count: messages.count)
        for (index, message) in messages.enumerated() {
            let id = registry.register { result in pending.set(index, result) }
            while true {
                let code = produce(message, id: id)
                if code == RD_KAFKA_RESP_ERR_NO_ERROR { break }
                if code == RD_KAFKA_RESP_ERR__QUEUE_FULL {
                    usleep(2000)
                    continue
                }
                if let completion = registry.take(id) { completion(.failure(KafkaError(.produce, code))) }
                break
            }
        }
        return pending
    }

    /// Waits until every enqueued message is delivered or failed, or the deadline passes.
    public func flush(timeout: Duration) async throws {
        try await blocking.run { [self] in try flushBlocking(timeout: timeout) }
    }

    /// The same, for an owner on a thread of its own (never from async code).
    public func flushBlocking(timeout: Duration) throws {
        let code = rd_kafka_flush(client.pointer, timeout.clampedMilliseconds)
        if code != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(.timeout, code, "flush left \(rd_kafka_outq_len(client.pointer)) messages undelivered")
        }
    }

    /// The fatal error that stopped this producer, if one did (an idempotent producer that
    /// lost its sequence, for instance): every later send fails, so its owner must replace it.
    public var fatalError: KafkaError? {
        var buffer = [CChar](repeating: 0, count: 512)
        let code = rd_kafka_fatal_error(client.pointer, &buffer, buffer.count)
        guard code != RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        return KafkaError(.produce, code, "fatal: " + String(cString: buffer))
    }

    /// Raises a fatal error in this producer as a failing broker would (librdkafka's own
    /// fault injection), for tests of the owner's recovery.
    public func injectFatalError() {
        _ = rd_kafka_test_fatal_error(client.pointer, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, "injected by a test")
    }

    /// Messages (and requests) librdkafka still holds.
    public var outstanding: Int { Int(rd_kafka_outq_len(client.pointer)) }

    private func produce(_ message: OutgoingMessage, id: UInt) -> rd_kafka_resp_err_t {
        var headers: OpaquePointer? = nil
        if !message.headers.isEmpty {
            headers = rd_kafka_headers_new(message.headers.count)
            for header in message.headers {
                // rd_kafka_header_add copies name and value.
                if let value = header.value {
                    value.withUnsafeBytes { raw in
                        _ = rd_kafka_header_add(headers, header.key, -1, raw.baseAddress, raw.count)
                    }
                } else {
                    _ = rd_kafka_header_add(headers, header.key, -1, nil, 0)
                }
            }
        }
        let error: OpaquePointer? = message.topic.withCString { topic in
            withBytes(message.key) { key in
                withBytes(message.value) { value in
                    var vus = [rd_kafka_vu_t](repeating: rd_kafka_vu_t(), count: headers == nil ? 6 : 7)
                    vus[0].vtype = RD_KAFKA_VTYPE_TOPIC
                    vus[0].u.cstr = topic
                    vus[1].vtype = RD_KAFKA_VTYPE_PARTITION
                    vus[1].u.i32 = message.partition ?? -1  // RD_KAFKA_PARTITION_UA: partitioner decides
                    vus[2].vtype = RD_KAFKA_VTYPE_MSGFLAGS
                    vus[2].u.i = RD_KAFKA_MSG_F_COPY  // librdkafka copies key and value before returning
                    vus[3].vtype = RD_KAFKA_VTYPE_KEY
                    vus[3].u.mem.ptr = UnsafeMutableRawPointer(mutating: key?.baseAddress)
                    vus[3].u.mem.size = key?.count ?? 0
                    vus[4].vtype = RD_KAFKA_VTYPE_VALUE
                    vus[4].u.mem.ptr = UnsafeMutableRawPointer(mutating: value?.baseAddress)
                    vus[4].u.mem.size = value?.count ?? 0
                    vus[5].vtype = RD_KAFKA_VTYPE_OPAQUE
                    vus[5].u.ptr = UnsafeMutableRawPointer(bitPattern: id)
                    if let headers {
                        vus[6].vtype = RD_KAFKA_VTYPE_HEADERS
                        vus[6].u.headers = headers
                    }
                    return rd_kafka_produceva(client.pointer, vus, vus.count)
                }
            }
        }
        guard let error else { return RD_KAFKA_RESP_ERR_NO_ERROR }
        // On failure the headers are still ours to free.
        if let headers { rd_kafka_headers_destroy(headers) }
        let code = rd_kafka_error_code(error)
        rd_kafka_error_destroy(error)
        return code
    }
}

/// Raw bytes for the length of a call; nil stays nil (a null key or value).
private func withBytes<T>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> T) -> T {
    guard let bytes else { return body(nil) }
    return bytes.withUnsafeBytes { body($0) }
}

/// A queue reference from `rd_kafka_queue_get_*`, destroyed when its last user lets go.
/// It holds its client, so the queue is always destroyed before the handle it belongs to.
/// `@unchecked Sendable`: librdkafka queues are thread-safe; only the poll thread polls it.
final class QueueRef: @unchecked Sendable {
    let pointer: OpaquePointer
    private let client: NativeClient

    init(_ pointer: OpaquePointer, of client: NativeClient) {
        self.pointer = pointer
        self.client = client
    }

    deinit { rd_kafka_queue_destroy(pointer) }
}

/// Completion callbacks waiting for delivery reports, keyed by the message opaque.
final class DeliveryRegistry: Sendable {
    typealias Completion = @Sendable (Result<DeliveryReport, KafkaError>) -> Void
    private let state = Mutex<(next: UInt, waiting: [UInt: Completion])>((1, [:]))

    func register(_ completion: @escaping Completion) -> UInt {
        state.withLock { state in
            let id = state.next
            state.next &+= 1
            if state.next == 0 { state.next = 1 }
            state.waiting[id] = completion
            return id
        }
    }

    func take(_ id: UInt) -> Completion? {
        state.withLock { $0.waiting.removeValue(forKey: id) }
    }

    func failAll(_ error: KafkaError) {
        let all = state.withLock { state in
            defer { state.waiting.removeAll() }
            return Array(state.waiting.values)
        }
        for completion in all { completion(.failure(error)) }
    }
}

/// The delivery reports of one batch of sends, in input order: awaited (`promise`, for `send`)
/// or waited for on a thread of its own (`wait`, for `startSending`).
public final class PendingDeliveries: Sendable {
    let promise = Promise<[Result<DeliveryReport, KafkaError>]>()
    private let state: Mutex<(results: [Result<DeliveryReport, KafkaError>?], remaining: Int)>
    private let done = DispatchSemaphore(value: 0)

    init(count: Int) {
        state = Mutex((Array(repeating: nil, count: count), count))
        if count == 0 {
            done.signal()
            promise.complete(.success([]))
        }
    }

    func set(_ index: Int, _ result: Result<DeliveryReport, KafkaError>) {
        let finished: [Result<DeliveryReport, KafkaError>]? = state.withLock { state in
            state.results[index] = result
            state.remaining -= 1
            return state.remaining == 0 ? state.results.map { $0! } : nil
        }
        if let finished {
            done.signal()
            promise.complete(.success(finished))
        }
    }

    /// Whether every report has arrived.
    public var isComplete: Bool { state.withLock { $0.remaining == 0 } }

    /// Blocks until every report has arrived; returns them in input order.
    public func wait() -> [Result<DeliveryReport, KafkaError>] {
        done.wait()
        done.signal()  // a second wait returns at once
        return state.withLock { $0.results.map { $0 ?? .failure(KafkaError(.delivery, "no delivery report")) } }
    }
}

enum ProducerEvents {
    /// Serves one event (or waits up to 100 ms for one) from the producer's main queue.
    static func serve(queue: QueueRef, registry: DeliveryRegistry, onError: (@Sendable (KafkaError) -> Void)?) {
        guard let event = rd_kafka_queue_poll(queue.pointer, 100) else { return }
        defer { rd_kafka_event_destroy(event) }
        switch rd_kafka_event_type(event) {
        case Int32(RD_KAFKA_EVENT_DR):
            while let message = rd_kafka_event_message_next(event) {
                let id = UInt(bitPattern: message.pointee._private)
                guard let completion = registry.take(id) else { continue }
                let err = message.pointee.err
                if err == RD_KAFKA_RESP_ERR_NO_ERROR {
                    let topic = String(cString: rd_kafka_topic_name(message.pointee.rkt))
                    completion(.success(DeliveryReport(topic: topic, partition: message.pointee.partition,
                                                       offset: message.pointee.offset)))
                } else {
                    completion(.failure(KafkaError(.delivery, err)))
                }
            }
        case Int32(RD_KAFKA_EVENT_ERROR):
            let fatal = rd_kafka_event_error_is_fatal(event) != 0
            let error = KafkaError(.produce, rd_kafka_event_error(event),
                                   (fatal ? "fatal: " : "") + String(cString: rd_kafka_event_error_string(event)))
            onError?(error)
        default:
            break
        }
    }
}
