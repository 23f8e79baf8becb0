internal import CLibrdkafka
import Foundation
import KokiBase
import Synchronization

/// Owns one `rd_kafka_t`. Destroying the handle is this object's job alone, in `deinit`;
/// `context` is whatever librdkafka holds as its opaque pointer, so it is released only
/// after the handle that points at it.
///
/// `@unchecked Sendable`: librdkafka documents `rd_kafka_t` as thread-safe; this class
/// holds no other mutable state.
final class NativeClient: @unchecked Sendable {
    let pointer: OpaquePointer
    private let context: AnyObject?
    /// Set once a consumer was closed, so destruction need not close it again.
    let consumerClosed = Atomic<Bool>(false)

    init(pointer: OpaquePointer, context: AnyObject? = nil) {
        self.pointer = pointer
        self.context = context
    }

    deinit {
        if rd_kafka_type(pointer) == RD_KAFKA_CONSUMER && !consumerClosed.load(ordering: .acquiring) {
            // A consumer dropped without close(): leave the group by session time-out
            // rather than block whoever released the last reference.
            rd_kafka_destroy_flags(pointer, Int32(RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE))
        } else {
            rd_kafka_destroy(pointer)
        }
    }
}

/// A dedicated thread that repeats `step` until stopped; `stop()` waits for it to end.
final class PollThread: Sendable {
    private let running = Atomic<Bool>(true)
    private let finished = DispatchSemaphore(value: 0)

    init(name: String, step: @escaping @Sendable () -> Void) {
        let thread = Thread { [self] in
            while running.load(ordering: .acquiring) { step() }
            finished.signal()
        }
        thread.name = name
        thread.start()
    }

    /// Idempotent; returns once the thread has left its loop.
    func stop() {
        if running.exchange(false, ordering: .acquiringAndReleasing) {
            finished.wait()
        }
    }
}

/// A value that arrives once, from any thread, and is awaited by one task; whichever of
/// the two comes second completes the hand-over.
final class Promise<Value: Sendable>: Sendable {
    private enum State {
        case empty
        case waiting(CheckedContinuation<Value, Error>)
        case done(Result<Value, Error>)
    }
    private let state = Mutex<State>(.empty)

    func complete(_ result: Result<Value, Error>) {
        let waiter: CheckedContinuation<Value, Error>? = state.withLock { state in
            switch state {
            case .empty:
                state = .done(result)
                return nil
            case .waiting(let continuation):
                state = .done(result)
                return continuation
            case .done:
                return nil
            }
        }
        waiter?.resume(with: result)
    }

    var value: Value {
        get async throws {
            try await withCheckedThrowingContinuation { continuation in
                let ready: Result<Value, Error>? = state.withLock { state in
                    if case .done(let result) = state { return result }
                    state = .waiting(continuation)
                    return nil
                }
                if let ready { continuation.resume(with: ready) }
            }
        }
    }
}
