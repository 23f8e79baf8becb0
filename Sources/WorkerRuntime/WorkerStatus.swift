import Foundation
import Synchronization

/// What `/livez` and `/readyz` report, updated by the loop and read by the HTTP thread.
public final class WorkerStatus: Sendable {
    struct State {
        var lastLoop = ContinuousClock.now
        var assigned = 0
        var databaseReachable = true
        var backingOff = 0
        var stopped: [String] = []
        var notReadyReason: String? = "starting"
    }

    private let state = Mutex(State())
    /// A loop silent for longer than this is not alive.
    let livenessWindow: Duration

    public init(livenessWindow: Duration = .seconds(30)) {
        self.livenessWindow = livenessWindow
    }

    func update(_ body: (inout State) -> Void) {
        state.withLock { body(&$0) }
    }

    public var isLive: Bool {
        state.withLock { ContinuousClock.now - $0.lastLoop < livenessWindow }
    }

    /// Nil when ready; otherwise why not.
    public var notReadyReason: String? {
        state.withLock { $0.notReadyReason }
    }

    public var isReady: Bool { notReadyReason == nil }

    /// Recomputes readiness from the parts.
    func settle(_ state: inout State) {
        if !state.stopped.isEmpty {
            state.notReadyReason = "stopped partitions: \(state.stopped.sorted().joined(separator: ", "))"
        } else if !state.databaseReachable {
            state.notReadyReason = "database unreachable"
        } else if state.backingOff > 0 {
            state.notReadyReason = "backing off on \(state.backingOff) partition(s)"
        } else if state.assigned == 0 {
            state.notReadyReason = "no partitions assigned"
        } else {
            state.notReadyReason = nil
        }
    }
}
