import Dispatch
import Foundation
import KokiCommands

/// Waits for SIGTERM or SIGINT (the container runtime's stop, or Ctrl-C) and returns
/// which one arrived.
enum TerminationSignal {
    static func wait() async -> Int32 {
        await withCheckedContinuation { continuation in
            let once = OnceFlag()
            var sources: [DispatchSourceSignal] = []
            for number in [SIGTERM, SIGINT] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler {
                    if once.fire() { continuation.resume(returning: number) }
                }
                source.resume()
                sources.append(source)
            }
            SignalSources.keep(sources)
        }
    }
}

/// Keeps signal sources alive for the life of the process.
private enum SignalSources {
    nonisolated(unsafe) private static var kept: [DispatchSourceSignal] = []
    private static let lock = NSLock()
    static func keep(_ sources: [DispatchSourceSignal]) {
        lock.lock()
        kept += sources
        lock.unlock()
    }
}

final class OnceFlag: @unchecked Sendable {  // guarded by lock
    private let lock = NSLock()
    private var fired = false
    func fire() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if fired { return false }
        fired = true
        return true
    }
}
