import Foundation
import Kafka
import KokiBase
import Logging
import Postgres
import Synchronization

/// The consume → transaction → commit loop of one worker process, on a thread of its own:
/// it polls a batch, applies each partition's part in one transaction (`BatchProcessor`),
/// then commits the offset to Kafka as a copy. The rebalance hooks run inside its poll,
/// between batches, so a revoked partition never has work in flight.
public final class WorkerLoop: Sendable {
    private let config: WorkerConfig
    private let topics: [String]
    private let processor: BatchProcessor
    private let metrics: RuntimeMetrics
    public let status: WorkerStatus
    private let logger: Logger
    private let stopRequested = Atomic<Bool>(false)
    private let partitions = PartitionTable()
    private let backoff: Backoff
    /// This process's mark in `batch_attempts` (the crash-loop breaker).
    private let instance = UUID().uuidString
    /// Attempts before a batch that fails for an unclassified reason stops its partition.
    static let unclassifiedAttempts = 5
    /// How often a batch waiting for another worker's business day is tried again.
    static let notYetDelay = Duration.milliseconds(100)

    public init(config: WorkerConfig, topics: [String], source: String, handler: any EventHandler,
                metrics: RuntimeMetrics, status: WorkerStatus, logger: Logger) {
        self.config = config
        self.topics = topics
        self.processor = BatchProcessor(group: config.groupID, source: source, handler: handler, seal: config.deadLetterSeal)
        self.backoff = Backoff(maximum: config.retryMax)
        self.metrics = metrics
        self.status = status
        self.logger = logger
    }

    /// Asks the loop to finish its current batch, leave the group and return.
    public func requestStop() {
        stopRequested.store(true, ordering: .releasing)
    }

    /// Runs until `requestStop`; blocks the calling thread (never call it from async code).
    public func run() throws {
        let conn = try connectWithRetry()
        let table = partitions
        let group = config.groupID
        let log = logger
        let instance = self.instance
        let hooks = RebalanceHooks(
            assigned: { assigned in
                let offsets = try? conn.sync { try RuntimeStore.offsets(group: group, partitions: assigned, on: $0) }
                table.assign(assigned, offsets: offsets)
                log.info("partitions assigned", metadata: ["partitions": "\(assigned.sorted())",
                                                           "positioned": "\(offsets != nil)"])
                return Dictionary(uniqueKeysWithValues: assigned.map { ($0, offsets?[$0] ?? KafkaOffset.beginning) })
            },
            revoked: { revoked, lost in
                // Handed over on purpose: the next owner must not count this member's marks as crashes.
                try? conn.sync { try RuntimeStore.clearAttempts(group: group, instance: instance, partitions: revoked, on: $0) }
                table.revoke(revoked)
                log.info("partitions revoked", metadata: ["partitions": "\(revoked.sorted())", "lost": "\(lost)"])
            })
        // More connections apply other partitions' batches while the first is busy.
        var lanes = [conn]
        while lanes.count < config.connections, !stopRequested.load(ordering: .acquiring) {
            lanes.append(try connectWithRetry())
        }
        // Where the broker no longer has a partition's next events (retention deleted them
        // before they were read), librdkafka would jump to the earliest it has: the partition
        // stops instead, so nothing is skipped without an operator deciding it.
        let consumer = try KafkaConsumer(config: config.kafka, groupID: config.groupID, hooks: hooks, offsetReset: .error)
        try consumer.subscribe(topics)
        logger.info("worker started", metadata: ["topics": "\(topics)", "group": "\(config.groupID)"])

        while !stopRequested.load(ordering: .acquiring) {
            let result = consumer.pollBlocking(maxMessages: config.maxBatch, timeout: config.maxWait)
            for error in result.errors {
                logger.warning("consumer error", metadata: ["error": "\(error)"])
            }
            for (tp, error) in result.unreadable {
                try? consumer.pause([tp])
                partitions.stop(tp, reason: "Kafka no longer has the events after the last one applied (\(error))")
                logger.error("partition stopped: Kafka no longer has the events after the last one applied; nothing was skipped",
                             metadata: ["topic": "\(tp.topic)", "partition": "\(tp.partition)", "error": "\(error)"])
            }
            var work: [Work] = []
            for (tp, messages) in result.batches.sorted(by: { $0.key < $1.key }) {
                metrics.consumed(tp.topic, messages.count)
                guard case .ready(let position) = partitions.state(of: tp) else { continue }
                var fresh = messages.filter { position == nil || $0.offset >= position! }
                guard let first = fresh.first else { continue }
                // A partition this group never applied whose first event is not offset 0:
                // retention deleted its head before koki read it. Nothing is skipped silently.
                if position == nil, first.offset > 0, !config.startMidStream {
                    try? consumer.pause([tp])
                    partitions.stop(tp, reason: "its first events were deleted before this group read them "
                                        + "(the earliest Kafka has is \(first.offset)); set KOKI_START_MIDSTREAM=true to begin there")
                    logger.error("partition stopped: its first events were deleted before this group read them; nothing was skipped",
                                 metadata: ["topic": "\(tp.topic)", "partition": "\(tp.partition)", "earliest": "\(first.offset)"])
                    continue
                }
                // A byte budget per batch: the rest is read again after this batch.
                var bytes = 0
                if let cut = fresh.firstIndex(where: { bytes += ($0.value?.count ?? 0) + ($0.key?.count ?? 0); return bytes > config.maxBatchBytes }),
                   cut > 0 {
                    try? consumer.seek([tp: fresh[cut].offset])
                    fresh.removeSubrange(cut...)
                }
                work.append(Work(tp: tp, messages: fresh, position: position))
            }
            apply(work, on: lanes, consumer: consumer)
            retryDue(consumer: consumer, conn: conn)
            purgeExpired(conn: conn)
            positionWaiting(consumer: consumer, conn: conn)
            report(consumer: consumer)
        }
        try? conn.sync { try RuntimeStore.clearAttempts(group: config.groupID, instance: instance, partitions: nil, on: $0) }
        logger.info("stopping: leaving the group")
        try consumer.closeBlocking()
        logger.info("worker stopped")
    }

    /// One partition's part of a poll.
    private struct Work: Sendable {
        let tp: TopicPartition
        let messages: [ConsumedMessage]
        let position: Int64?
    }

    /// Applies a poll's batches topic by topic, in topic order as one connection always did (a
    /// business day before the updates polled with it); the partitions of one topic on
    /// different connections at once, as several members of the group would take them (their
    /// keys differ; the handlers lock what keys share), each connection's share in one
    /// transaction, each partition's events in offset order. Returns when all are done, so
    /// rebalances (inside the next poll) never meet work in flight.
    private func apply(_ work: [Work], on lanes: [PostgresConnection], consumer: KafkaConsumer) {
        var index = 0
        while index < work.count {
            var end = index + 1
            while end < work.count, work[end].tp.topic == work[index].tp.topic { end += 1 }
            let shares = Self.shares(of: Array(work[index..<end]), among: lanes.count)
            index = end
            guard shares.count > 1 else {
                run(together: shares[0], consumer: consumer, conn: lanes[0])
                continue
            }
            DispatchQueue.concurrentPerform(iterations: shares.count) { lane in
                let conn = lanes[lane]
                // The first connection is repaired by the loop; the others here, before use.
                if lane > 0 { try? reconnectIfNeeded(conn) }
                run(together: shares[lane], consumer: consumer, conn: conn)
            }
        }
    }

    /// One topic's partition batches split among at most `lanes` connections, each share about
    /// as many events as the others (a partition's batch stays whole).
    private static func shares(of items: [Work], among lanes: Int) -> [[Work]] {
        var shares = Array(repeating: [Work](), count: max(1, min(lanes, items.count)))
        var sizes = Array(repeating: 0, count: shares.count)
        for item in items.sorted(by: { $0.messages.count > $1.messages.count }) {
            let lightest = sizes.indices.min { sizes[$0] < sizes[$1] }!
            shares[lightest].append(item)
            sizes[lightest] += item.messages.count
        }
        // Each share in partition order, as the offsets are taken.
        return shares.map { $0.sorted { $0.tp < $1.tp } }
    }

    /// Applies several partitions' batches in one transaction: a handler's fixed work per
    /// transaction, paid once per poll instead of once per partition, was most of a batch's
    /// time at a steady trickle of events. If it fails for any reason (unreachable database, a
    /// member that took a partition over, an event to isolate, a business day to wait for),
    /// each partition's batch is applied on its own, where that is decided per partition.
    private func run(together items: [Work], consumer: KafkaConsumer, conn: PostgresConnection) {
        guard items.count > 1, !config.transactionPerEvent else {
            for item in items { run(item.messages, tp: item.tp, position: item.position, consumer: consumer, conn: conn) }
            return
        }
        let start = ContinuousClock.now
        let parts = items.map { BatchProcessor.Part(tp: $0.tp, messages: $0.messages, expected: $0.position) }
        let topic = items[0].tp.topic, names = items.map { "\($0.tp.partition)" }.joined(separator: ",")
        let summary: BatchProcessor.Summary
        do {
            // Marked as begun by this process, like a single partition's batch; if an earlier
            // process died on any of them, each is applied on its own, where the breaker decides.
            let crashes = try conn.sync {
                try RuntimeStore.markAttempts(group: config.groupID, instance: instance,
                                              items.map { ($0.tp, $0.messages[0].offset, $0.messages.count) }, on: $0)
            }
            guard crashes.values.allSatisfy({ $0 == 0 }) else { throw BatchProcessor.EarlierCrash() }
            summary = try conn.sync { try processor.process(together: parts, on: $0) }
        } catch {
            logger.info("partitions applied together failed; applying each on its own",
                        metadata: ["topic": "\(topic)", "partitions": "\(names)", "error": "\(error)"])
            for item in items { run(item.messages, tp: item.tp, position: item.position, consumer: consumer, conn: conn) }
            return
        }
        for (tp, next) in summary.nextOffsets { partitions.advance(tp, to: next) }
        try? consumer.commit(summary.nextOffsets)
        record(summary, topic: topic, partitions: names, size: items.reduce(0) { $0 + $1.messages.count },
               elapsed: ContinuousClock.now - start)
        status.update { $0.databaseReachable = true }
    }

    private func connectWithRetry() throws -> PostgresConnection {
        var attempt = 0
        while true {
            do {
                return try PostgresConnection(connecting: config.databaseURL, label: "koki.worker.db")
            } catch let error as PostgresError where error.isTransient && !stopRequested.load(ordering: .acquiring) {
                attempt += 1
                status.update { $0.databaseReachable = false; $0.lastLoop = .now; status.settle(&$0) }
                logger.warning("database unreachable at start-up; retrying",
                               metadata: ["attempt": "\(attempt)", "reason": "\(error.connectionFailureReason ?? "-")"])
                Thread.sleep(forTimeInterval: backoff.delay(attempt: attempt).inSeconds)
            }
        }
    }

    /// Applies `messages` of one partition (all at or after its position). Each chunk is first
    /// marked as begun by this process (the crash-loop breaker): a chunk an earlier process
    /// began and never finished is applied event by event, and an event that took
    /// `crashLimit` processes down is dead-lettered instead of applied.
    private func run(_ messages: [ConsumedMessage], tp: TopicPartition, position: Int64?,
                     consumer: KafkaConsumer, conn: PostgresConnection) {
        var chunks = config.transactionPerEvent ? messages.map { [$0] } : [messages]
        var expected = position
        var index = 0
        while index < chunks.count {
            let chunk = chunks[index]
            let start = ContinuousClock.now
            do {
                let crashes = try conn.sync {
                    try RuntimeStore.markAttempts(group: config.groupID, instance: instance,
                                                  [(tp, chunk[0].offset, chunk.count)], on: $0)[tp] ?? 0
                }
                if crashes > 0 && chunk.count > 1 {
                    logger.warning("a process died applying this batch; applying it event by event", metadata: [
                        "topic": "\(tp.topic)", "partition": "\(tp.partition)", "offset": "\(chunk[0].offset)",
                        "crashes": "\(crashes)"])
                    chunks.replaceSubrange(index...index, with: chunk.map { [$0] })
                    continue
                }
                var refuse: [Int64: Rejection] = [:]
                if crashes >= config.crashLimit {
                    refuse[chunk[0].offset] = Rejection(.crashLoop, "applying it took the worker process down \(crashes) times in a row")
                    logger.error("dead-lettering an event that keeps crashing the worker", metadata: TraceContext.logFields(chunk[0].headers).merging([
                        "topic": "\(tp.topic)", "partition": "\(tp.partition)", "offset": "\(chunk[0].offset)",
                        "crashes": "\(crashes)"]) { $1 })
                }
                let summary = try conn.sync { try processor.process(chunk, tp: tp, expected: expected, refuse: refuse, on: $0) }
                let next = summary.nextOffsets[tp]!
                expected = next
                partitions.advance(tp, to: next)
                try? consumer.commit([tp: next])
                record(summary, topic: tp.topic, partitions: "\(tp.partition)", size: chunk.count, elapsed: ContinuousClock.now - start)
                status.update { $0.databaseReachable = true }
            } catch {
                let rest = Array(chunks[index...].joined())
                fail(rest, tp: tp, error: error, consumer: consumer, conn: conn)
                return
            }
            index += 1
        }
    }

    static let loggedLettersPerBatch = 20

    private func record(_ summary: BatchProcessor.Summary, topic: String, partitions: String, size: Int, elapsed: Duration) {
        metrics.applied(topic, summary.applied)
        if summary.duplicates > 0 { metrics.duplicates(topic, summary.duplicates) }
        for (kind, count) in summary.deadLettered { metrics.deadLettered(topic, kind: kind.rawValue, count) }
        // One line per event (its offset, ce_id and trace id tie it to its dead letter and its
        // trace), up to a bound per batch; the rest as a count.
        for letter in summary.letters.prefix(Self.loggedLettersPerBatch) {
            logger.warning("event dead-lettered", metadata: TraceContext.logFields(letter.headers).merging([
                "topic": "\(topic)", "partition": "\(partitions)", "offset": "\(letter.offset)", "kind": "\(letter.kind.rawValue)",
            ]) { $1 })
        }
        if summary.letters.count > Self.loggedLettersPerBatch {
            logger.warning("more events dead-lettered in the same batch", metadata: [
                "topic": "\(topic)", "partition": "\(partitions)",
                "count": "\(summary.letters.count - Self.loggedLettersPerBatch)"])
        }
        metrics.batchSize.record(Double(size))
        metrics.batchDuration.record(elapsed)
    }

    /// Decides between retry, re-positioning and stopping after a batch failed.
    private func fail(_ messages: [ConsumedMessage], tp: TopicPartition, error: Error,
                      consumer: KafkaConsumer, conn: PostgresConnection) {
        try? consumer.pause([tp])
        // A failure handled here is not a crash: the breaker's mark is taken off (best effort; with
        // the database away, the next attempt's mark is by this same instance anyway).
        try? conn.sync { try RuntimeStore.clearAttempts(group: config.groupID, instance: instance, partitions: [tp], on: $0) }
        // The batch's first event (where it is, its ce_id and trace) names what failed.
        let meta: Logger.Metadata = TraceContext.logFields(messages.first?.headers ?? []).merging(
            ["topic": "\(tp.topic)", "partition": "\(tp.partition)", "offset": "\(messages.first?.offset ?? -1)"]) { $1 }
        switch error {
        case is BatchProcessor.Zombie:
            logger.warning("offset moved by another member; re-reading it", metadata: meta)
            partitions.unposition(tp)
        case let error as NotYet:
            let attempt = partitions.backOff(tp, messages, delay: { _ in Self.notYetDelay })
            if Self.notYetDelay * attempt >= config.waitLimit {
                partitions.stop(tp, reason: "waited longer than \(config.waitLimit) for another worker: \(error)")
                logger.error("partition stopped: it waited too long for another worker", metadata: meta.merging(
                    ["reason": "\(error)"], uniquingKeysWith: { $1 }))
            } else if attempt % 100 == 0 {
                logger.warning("waiting for another worker", metadata: meta.merging(
                    ["attempt": "\(attempt)", "reason": "\(error)"], uniquingKeysWith: { $1 }))
            }
        case let error as PostgresError where error.isTransient:
            let attempt = partitions.backOff(tp, messages, delay: backoff.delay(attempt:))
            metrics.retried(tp.topic)
            let reachable = conn.sync { $0.isConnected }
            status.update { $0.databaseReachable = reachable }
            logger.warning("transient failure; backing off", metadata: meta.merging(
                ["attempt": "\(attempt)", "error": "\(error)"], uniquingKeysWith: { $1 }))
        default:
            let attempt = partitions.backOff(tp, messages, delay: backoff.delay(attempt:))
            if attempt >= Self.unclassifiedAttempts {
                partitions.stop(tp, reason: "\(error)")
                logger.error("partition stopped: a batch keeps failing for a reason the runtime cannot classify",
                             metadata: meta.merging(["error": "\(error)"], uniquingKeysWith: { $1 }))
            } else {
                metrics.retried(tp.topic)
                logger.warning("unclassified failure; retrying", metadata: meta.merging(
                    ["attempt": "\(attempt)", "error": "\(error)"], uniquingKeysWith: { $1 }))
            }
        }
    }

    /// Retries batches whose back-off has passed; on success the partition resumes right
    /// after the batch.
    private func retryDue(consumer: KafkaConsumer, conn: PostgresConnection) {
        for (tp, messages, position) in partitions.dueRetries() {
            do { try reconnectIfNeeded(conn) } catch {
                fail(messages, tp: tp, error: error, consumer: consumer, conn: conn)
                continue
            }
            partitions.clearPending(tp)
            run(messages, tp: tp, position: position, consumer: consumer, conn: conn)
            if case .ready(let next?) = partitions.state(of: tp) {
                try? consumer.seek([tp: next])
                try? consumer.resume([tp])
                logger.info("partition resumed", metadata: ["topic": "\(tp.topic)", "partition": "\(tp.partition)"])
            }
        }
    }

    /// Reads the database offset of partitions that lack one (the database was down at
    /// assignment, or another member moved it), then seeks there and resumes.
    private func positionWaiting(consumer: KafkaConsumer, conn: PostgresConnection) {
        let waiting = partitions.unpositioned()
        guard !waiting.isEmpty else { return }
        try? consumer.pause(waiting)
        try? reconnectIfNeeded(conn)
        guard let offsets = try? conn.sync({ try RuntimeStore.offsets(group: config.groupID, partitions: waiting, on: $0) }) else {
            status.update { $0.databaseReachable = false }
            return
        }
        for tp in waiting {
            let offset = offsets[tp]
            partitions.position(tp, at: offset)
            try? consumer.seek([tp: offset ?? KafkaOffset.beginning])
            try? consumer.resume([tp])
        }
    }

    /// After an outage the connection is gone: re-establish it before using it again.
    private func reconnectIfNeeded(_ conn: PostgresConnection) throws {
        try conn.sync { conn in
            if !conn.isConnected { try conn.reset() }
        }
    }

    private let lastPurge = Mutex(ContinuousClock.now)

    /// Once a minute: this group's inbox rows older than `KOKI_INBOX_RETENTION_DAYS`, and the
    /// bodies of its dead letters older than `KOKI_DEAD_LETTER_RETENTION_DAYS` — in chunks
    /// until done or a second has passed (so it keeps up with any rate).
    private func purgeExpired(conn: PostgresConnection) {
        let due = lastPurge.withLock { last -> Bool in
            guard ContinuousClock.now - last > .seconds(60) else { return false }
            last = .now
            return true
        }
        guard due else { return }
        var purged = 0, bodies = 0
        do {
            try conn.sync { conn in
                if config.inboxRetentionDays > 0 {
                    purged = try RuntimeStore.purgeInbox(group: config.groupID, olderThanDays: config.inboxRetentionDays, on: conn)
                }
                if config.deadLetterRetentionDays > 0 {
                    bodies = try RuntimeStore.purgeDeadLetterBodies(group: config.groupID,
                                                                    olderThanDays: config.deadLetterRetentionDays, on: conn)
                }
            }
        } catch {
            logger.warning("purge failed; trying again later", metadata: ["error": "\(error)"])
        }
        if purged > 0 { logger.info("inbox purged", metadata: ["rows": "\(purged)", "retention_days": "\(config.inboxRetentionDays)"]) }
        if bodies > 0 {
            logger.info("dead-letter bodies purged", metadata: ["rows": "\(bodies)", "retention_days": "\(config.deadLetterRetentionDays)"])
        }
    }

    private let lastReport = Mutex(ContinuousClock.now - .seconds(10))

    private func report(consumer: KafkaConsumer) {
        let counts = partitions.counts()
        status.update {
            $0.lastLoop = .now
            $0.assigned = counts.assigned
            $0.backingOff = counts.backingOff + counts.unpositioned
            $0.stopped = counts.stopped
            status.settle(&$0)
        }
        metrics.partitions(assigned: counts.assigned, stopped: counts.stopped.count)
        let due = lastReport.withLock { last -> Bool in
            guard ContinuousClock.now - last > .seconds(2) else { return false }
            last = .now
            return true
        }
        guard due else { return }
        for (tp, position) in partitions.positions() {
            guard let high = consumer.cachedWatermarks(tp)?.high else { continue }
            metrics.lag(group: config.groupID, tp.topic, tp.partition, max(0, high - (position ?? 0)))
        }
    }
}
