import Dispatch

/// A serial queue of its own thread for blocking C calls (librdkafka polls and flushes,
/// every libpq call), so that they never occupy Swift's small cooperative pool.
public final class BlockingQueue: Sendable {
    private let queue: DispatchQueue

    public init(label: String) {
        queue = DispatchQueue(label: label)
    }

    /// Runs `body` on the queue and suspends the caller (not a pool thread) until it ends.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try body() })
            }
        }
    }

    /// Runs `body` on the queue from a thread that may block (never from async code).
    public func sync<T>(_ body: () throws -> T) rethrows -> T {
        try queue.sync(execute: body)
    }

    /// Schedules `body` on the queue and returns at once.
    public func schedule(_ body: @escaping @Sendable () -> Void) {
        queue.async(execute: body)
    }

    /// True when the caller is already on this queue.
    public func precondition() {
        dispatchPrecondition(condition: .onQueue(queue))
    }
}
