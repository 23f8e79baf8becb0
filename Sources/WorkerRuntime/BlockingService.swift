import Foundation
import ServiceLifecycle

/// Runs a blocking loop (a worker's or the relay's) on a thread of its own as a
/// lifecycle `Service`: graceful shutdown asks the loop to stop, and `run` returns when
/// the thread has finished.
public struct BlockingService: Service {
    let name: String
    let body: @Sendable () throws -> Void
    let stop: @Sendable () -> Void

    public init(name: String, body: @escaping @Sendable () throws -> Void, stop: @escaping @Sendable () -> Void) {
        self.name = name
        self.body = body
        self.stop = stop
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
                let thread = Thread {
                    continuation.resume(with: Result { try body() })
                }
                thread.name = name
                thread.start()
            }
        } onGracefulShutdown: {
            stop()
        }
    }
}

/// Serves `/livez`, `/readyz` and `/metrics` until graceful shutdown.
struct HealthService: Service {
    let server: HealthServer

    func run() async throws {
        await withGracefulShutdownHandler {
            try? await gracefulShutdown()
        } onGracefulShutdown: {}
        server.stop()
    }
}
