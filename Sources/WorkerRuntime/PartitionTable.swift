import Foundation
import Kafka
import Synchronization

/// Per-partition state of one worker: where the database says to read next, and whether
/// the partition is waiting for a retry, for its offset, or stopped.
final class PartitionTable: Sendable {
    enum State: Equatable {
        /// Applying; the next offset (nil: the database has no row yet).
        case ready(Int64?)
        /// A failed batch waits for its retry.
        case backingOff
        /// The database offset must be read before reading on.
        case unpositioned
        case stopped
        case notAssigned
    }

    private struct Entry {
        var position: Int64?
        var positioned: Bool
        var pending: [ConsumedMessage]?
        var attempts = 0
        var retryAt = ContinuousClock.now
        var stoppedReason: String?
    }

    private let entries = Mutex<[TopicPartition: Entry]>([:])

    func assign(_ partitions: [TopicPartition], offsets: [TopicPartition: Int64]?) {
        entries.withLock { entries in
            for tp in partitions {
                entries[tp] = Entry(position: offsets?[tp], positioned: offsets != nil)
            }
        }
    }

    func revoke(_ partitions: [TopicPartition]) {
        entries.withLock { entries in partitions.forEach { entries[$0] = nil } }
    }

    func state(of tp: TopicPartition) -> State {
        entries.withLock { entries in
            guard let e = entries[tp] else { return .notAssigned }
            if e.stoppedReason != nil { return .stopped }
            if !e.positioned { return .unpositioned }
            if e.pending != nil { return .backingOff }
            return .ready(e.position)
        }
    }

    func advance(_ tp: TopicPartition, to next: Int64) {
        entries.withLock { entries in
            entries[tp]?.position = next
            entries[tp]?.attempts = 0
        }
    }

    /// Keeps the batch for a retry after a back-off; returns the attempt number.
    func backOff(_ tp: TopicPartition, _ messages: [ConsumedMessage], delay: (Int) -> Duration) -> Int {
        entries.withLock { entries in
            guard var e = entries[tp] else { return 0 }
            e.attempts += 1
            e.pending = messages
            e.retryAt = .now + delay(e.attempts)
            entries[tp] = e
            return e.attempts
        }
    }

    func dueRetries() -> [(TopicPartition, [ConsumedMessage], Int64?)] {
        entries.withLock { entries in
            entries.compactMap { tp, e in
                guard e.stoppedReason == nil, e.positioned, let pending = e.pending, e.retryAt <= .now else { return nil }
                return (tp, pending, e.position)
            }.sorted { $0.0 < $1.0 }
        }
    }

    func clearPending(_ tp: TopicPartition) {
        entries.withLock { $0[tp]?.pending = nil }
    }

    func unposition(_ tp: TopicPartition) {
        entries.withLock { entries in
            entries[tp]?.positioned = false
            entries[tp]?.pending = nil
        }
    }

    func position(_ tp: TopicPartition, at offset: Int64?) {
        entries.withLock { entries in
            entries[tp]?.position = offset
            entries[tp]?.positioned = true
        }
    }

    func unpositioned() -> [TopicPartition] {
        entries.withLock { $0.filter { !$0.value.positioned }.map(\.key).sorted() }
    }

    func stop(_ tp: TopicPartition, reason: String) {
        entries.withLock { entries in
            entries[tp]?.stoppedReason = reason
            entries[tp]?.pending = nil
        }
    }

    func positions() -> [(TopicPartition, Int64?)] {
        entries.withLock { $0.map { ($0.key, $0.value.position) } }
    }

    func counts() -> (assigned: Int, backingOff: Int, unpositioned: Int, stopped: [String]) {
        entries.withLock { entries in
            (entries.count,
             entries.values.filter { $0.pending != nil && $0.stoppedReason == nil }.count,
             entries.values.filter { !$0.positioned }.count,
             entries.filter { $0.value.stoppedReason != nil }.map { $0.key.description })
        }
    }
}
