import Foundation
import Kafka
import KokiBase
import KokiSecrets
import Logging
import Postgres
import Synchronization

/// Publishes outbox rows to Kafka with the idempotent producer and marks them published
/// only after their delivery reports. Relays own buckets of message keys through
/// PostgreSQL advisory locks, so several can run at once: each bucket is published by one
/// relay, in id order, and a dead relay's buckets are taken over when its session ends.
public final class OutboxRelay: Sendable {
    public struct Options: Sendable {
        public var batchSize = 1000
        /// The polling fallback when no notification arrives.
        public var pollInterval: Duration = .seconds(1)
        /// Published rows are deleted after this long.
        public var retention: Duration = .seconds(7 * 24 * 3600)
        /// Rows the transfer policy held are deleted after this long (zero: kept).
        public var heldRetention: Duration = .seconds(90 * 24 * 3600)
        public var retryMax: Duration = .seconds(5)
        /// Batches handed to Kafka whose delivery reports are still awaited. A round does not
        /// wait for the last one's reports before sending the next: on this machine's mock a
        /// produce answer takes about 45 ms, which was most of the event → transfer latency.
        public var batchesInFlight = 4
        public var instance: String
        /// The transfer log's MAC key (`KOKI_AUDIT_MAC_KEY_FILE`): each appended row gets a MAC of
        /// its seq and hash in `audit_macs`; nil, none.
        public var auditMac: AuditMacKey?
        /// Sees each producer the relay makes (for fault-injection tests).
        var producerMade: (@Sendable (KafkaProducer) -> Void)?

        public init(instance: String) { self.instance = instance }
    }

    private let kafka: KafkaConfig
    private let databaseURL: String
    private let options: Options
    private let policy: any PublishPolicy
    private let metrics: RuntimeMetrics
    public let status: WorkerStatus
    private let logger: Logger
    private let stopRequested = Atomic<Bool>(false)

    /// Why a row waits: an earlier row of its key was refused by Kafka.
    static let behindRefusedReason = HoldReason.behindRefused.text

    /// Advisory-lock class for relay buckets (the second key is the bucket number).
    static let lockClass: Int32 = 0x6B6F6B69

    public init(kafka: KafkaConfig, databaseURL: String, options: Options, policy: any PublishPolicy,
                metrics: RuntimeMetrics, status: WorkerStatus, logger: Logger) {
        self.kafka = kafka
        self.databaseURL = databaseURL
        self.options = options
        self.policy = policy
        self.metrics = metrics
        self.status = status
        self.logger = logger
    }

    public func requestStop() { stopRequested.store(true, ordering: .releasing) }

    private var stopping: Bool { stopRequested.load(ordering: .acquiring) }

    /// Runs until `requestStop`; blocks the calling thread.
    public func run() throws {
        // Each round hands its whole batch over at once: nothing to linger for.
        let makeProducer = { [kafka, logger, options] in
            let producer = try KafkaProducer(config: kafka, linger: .zero, onError: { error in
                logger.warning("producer error", metadata: ["error": "\(error)"])
            })
            options.producerMade?(producer)
            return producer
        }
        var producer = try makeProducer()
        var session = Session()
        var inFlight: [InFlightBatch] = []
        var attempt = 0
        let backoff = Backoff(maximum: options.retryMax)
        var lastHousekeeping = ContinuousClock.now - .seconds(3600)
        // Whether a commit may have added rows since the last look found none: looking every
        // round while reports were awaited (every 2 ms) cost the server more than the rows did.
        var mayHaveRows = true
        logger.info("relay started", metadata: ["instance": "\(options.instance)"])
        while !stopping {
            do {
                try session.ensureConnected(databaseURL)
                let conn = session.conn!
                if ContinuousClock.now - lastHousekeeping > .seconds(5) {
                    try session.acquireBuckets()
                    try conn.sync { try policy.refresh(on: $0) }
                    try housekeeping(conn)
                    lastHousekeeping = .now
                    mayHaveRows = true  // buckets may have been taken over
                }
                try finishDelivered(&inFlight, on: conn)
                if let fatal = producer.fatalError {
                    // Every later send of this producer would fail: mark nothing more of it (its
                    // undelivered rows stay unpublished and go out again) and start a new one.
                    logger.error("producer failed fatally; replacing it", metadata: ["error": "\(fatal)"])
                    metrics.producerReplaced()
                    inFlight.removeAll()
                    producer = try makeProducer()
                    mayHaveRows = true
                    continue
                }
                var started = false
                if mayHaveRows, inFlight.count < options.batchesInFlight {
                    if let batch = try startBatch(buckets: session.owned, after: InFlightBatch.lastIDs(inFlight),
                                                  blocked: inFlight.reduce(into: Set()) { $0.formUnion($1.blockedKeys) },
                                                  on: conn, producer: producer) {
                        inFlight.append(batch)
                        started = true
                    } else {
                        mayHaveRows = false
                    }
                }
                attempt = 0
                status.update {
                    $0.lastLoop = .now
                    $0.databaseReachable = true
                    $0.backingOff = 0
                    $0.assigned = session.owned.count
                    status.settle(&$0)
                }
                if !started {
                    // Nothing new to send: sleep until a worker commits (NOTIFY), or only briefly
                    // while reports are awaited.
                    let wait = inFlight.isEmpty ? options.pollInterval : .milliseconds(2)
                    let woken = try session.listener!.sync { try $0.waitForNotifications(timeout: wait) }
                    // A commit, or a whole interval idle (a writer that did not notify): look again.
                    if !woken.isEmpty || inFlight.isEmpty { mayHaveRows = true }
                }
            } catch {
                attempt += 1
                let transient = (error as? PostgresError)?.isTransient ?? true
                // Rows of batches not yet marked stay unpublished and go out again (at least once).
                inFlight.removeAll()
                mayHaveRows = true
                session.dropIfBroken()
                status.update {
                    $0.lastLoop = .now
                    $0.databaseReachable = session.conn != nil
                    $0.backingOff = 1
                    status.settle(&$0)
                }
                logger.warning("relay cycle failed; backing off", metadata: [
                    "attempt": "\(attempt)", "error": "\(error)", "transient": "\(transient)",
                    "reason": "\((error as? PostgresError)?.connectionFailureReason ?? "-")"])
                Thread.sleep(forTimeInterval: backoff.delay(attempt: attempt).inSeconds)
            }
        }
        logger.info("relay stopping: marking what was delivered, flushing the producer")
        if let conn = session.conn {
            do {
                try finishDelivered(&inFlight, on: conn, waiting: true)
            } catch {
                logger.warning("relay stopped before marking delivered rows; they go out again", metadata: ["error": "\(error)"])
            }
        }
        do {
            try producer.flushBlocking(timeout: .seconds(10))
        } catch {
            logger.warning("relay stopped with messages undelivered; their rows stay unpublished", metadata: ["error": "\(error)"])
        }
        logger.info("relay stopped")
    }

    /// The database side of the relay: a working connection holding the bucket locks, and
    /// a listening connection for wake-ups.
    struct Session {
        var conn: PostgresConnection?
        var listener: PostgresConnection?
        var owned: Set<Int16> = []

        mutating func ensureConnected(_ url: String) throws {
            if conn == nil {
                owned = []
                conn = try PostgresConnection(connecting: url, label: "koki.relay.db")
            }
            if listener == nil {
                let listener = try PostgresConnection(connecting: url, label: "koki.relay.listen")
                try listener.sync { try $0.listen("koki_outbox") }
                self.listener = listener
            }
        }

        /// Takes every bucket no other relay holds (session-level advisory locks, released
        /// when this connection ends).
        mutating func acquireBuckets() throws {
            guard let conn else { return }
            for bucket in Int16(0)..<Int16(OutboxRow.bucketCount) where !owned.contains(bucket) {
                let got = try conn.sync {
                    try $0.query("SELECT pg_try_advisory_lock(\(OutboxRelay.lockClass), \(Int32(bucket)))")[0]
                        .decode(Bool.self, at: 0)
                }
                if got { owned.insert(bucket) }
            }
        }

        /// After a failure, forget connections that are gone (their locks went with them).
        mutating func dropIfBroken() {
            if let c = conn, !c.sync({ $0.isConnected }) { conn = nil; owned = [] }
            if let l = listener, !l.sync({ $0.isConnected }) { listener = nil }
        }
    }

    /// One round's rows, handed to Kafka and awaiting their delivery reports.
    struct InFlightBatch {
        /// Per bucket, the batch's last row id.
        let lastIDs: [Int16: Int64]
        let toSend: [OutboxMessage]
        let audits: [Int64: AuditRecord]
        let held: [(Int64, String)]
        /// Rows held because an earlier row of their key was refused by Kafka.
        let blocked: [(Int64, String)]
        /// The held rows' `ce_id` and trace id, for the log lines about them.
        let logFields: [Int64: Logger.Metadata]
        /// The (topic, key)s those rows block.
        let blockedKeys: Set<String>
        let deliveries: PendingDeliveries

        func logFields(of id: Int64) -> Logger.Metadata {
            logFields[id] ?? toSend.first { $0.id == id }.map { TraceContext.logFields($0.headers) } ?? [:]
        }

        /// Per bucket, the last row id in flight: the next round starts after it. A row that
        /// commits after a higher id of its bucket was read (overlapping worker transactions)
        /// waits until that bucket has nothing in flight. Excluding exactly the ids in flight
        /// instead measured p99 115–146 ms against 74–86 ms under `koki-dev bench latency`.
        static func lastIDs(_ batches: [InFlightBatch]) -> [Int16: Int64] {
            batches.reduce(into: [:]) { last, batch in last.merge(batch.lastIDs, uniquingKeysWith: max) }
        }
    }

    /// Reads up to a batch of rows from each owned bucket (after the rows already in flight),
    /// decides each by the policy and hands the published ones to Kafka in id order, so each
    /// key's rows keep their order; nil when there is nothing to send.
    private func startBatch(buckets: Set<Int16>, after lastIDs: [Int16: Int64], blocked inFlightBlocked: Set<String>,
                            on conn: PostgresConnection, producer: KafkaProducer) throws -> InFlightBatch? {
        guard !buckets.isEmpty else { return nil }
        let sorted = buckets.sorted()
        let rows = try conn.sync { conn in
            try conn.query("""
                SELECT o.id, o.topic, o.message_key, o.ce_id, o.ce_type, o.headers, o.payload, o.created_at, b.bucket,
                       EXISTS (SELECT 1 FROM outbox h WHERE h.blocks_key AND h.topic = o.topic AND h.message_key = o.message_key)
                FROM unnest(\(sorted)::smallint[], \(sorted.map { lastIDs[$0] ?? 0 })::bigint[]) AS b(bucket, after)
                CROSS JOIN LATERAL (
                    SELECT * FROM outbox
                    WHERE outbox.bucket = b.bucket AND outbox.id > b.after AND published_at IS NULL AND held_at IS NULL
                    ORDER BY id LIMIT \(options.batchSize)) AS o
                ORDER BY o.id
                """).map { row in
                let headers = HeaderJSON.decode(try row.decode(PostgresJSON.self, at: 5))
                return (message: OutboxMessage(id: try row.decode(Int64.self, at: 0), topic: try row.decode(String.self, at: 1),
                                               key: try row.decode(String?.self, at: 2), ceID: try row.decode(String.self, at: 3),
                                               ceType: try row.decode(String.self, at: 4), headers: headers ?? [],
                                               payload: try row.decode(Data?.self, at: 6).map { Array($0) },
                                               createdAt: try row.decode(Date.self, at: 7)),
                        bucket: try row.decode(Int16.self, at: 8), readable: headers != nil,
                        blocked: try row.decode(Bool.self, at: 9))
            }
        }
        guard !rows.isEmpty else { return nil }
        var toSend: [(OutboxMessage, OutgoingMessage)] = []
        var audits: [Int64: AuditRecord] = [:]
        // A row of a key whose earlier row Kafka refused waits behind it (per-key order); a row
        // whose headers cannot be read is never published without its CloudEvents headers.
        // A row too large for Kafka is refused here, before anything of its key behind it is sent.
        var blocked: [(Int64, String)] = []
        var held: [(Int64, String)] = []
        // Keys a batch still in flight refused a row of: it is not yet marked in the table.
        var blockedKeys = inFlightBlocked
        var sendable: [(message: OutboxMessage, bucket: Int16, readable: Bool, blocked: Bool)] = []
        for row in rows {
            let key = row.message.key.map { row.message.topic + "\u{0}" + $0 }
            if row.blocked || key.map(blockedKeys.contains) == true {
                blocked.append((row.message.id, OutboxRelay.behindRefusedReason))
            } else if !row.readable {
                held.append((row.message.id, HoldReason.unreadableHeaders.text))
            } else if OutboxRow.bytes(payload: row.message.payload?.count ?? 0, key: row.message.key, headers: row.message.headers)
                        > OutboxRow.maxBytes {
                blocked.append((row.message.id, "\(HoldReason.kafkaRefused.text): larger than the \(OutboxRow.maxBytes) bytes a message may have"))
                if let key { blockedKeys.insert(key) }
            } else {
                sendable.append(row)
            }
        }
        let decisions = try conn.sync { try policy.decide(sendable.map(\.message), on: $0) }
        for ((row, _, _, _), decision) in zip(sendable, decisions) {
            switch decision {
            case .publish(let message, let audit):
                toSend.append((row, message))
                if let audit { audits[row.id] = audit }
            case .hold(let reason): held.append((row.id, reason))
            }
        }
        let lastIDs = rows.reduce(into: [Int16: Int64]()) { last, row in last[row.bucket] = max(last[row.bucket] ?? 0, row.message.id) }
        // Only rows held here are logged (a refused row's fields are found at marking, rarely).
        let heldIDs = Set(held.map(\.0) + blocked.map(\.0))
        let logFields = Dictionary(rows.filter { heldIDs.contains($0.message.id) }
            .map { ($0.message.id, TraceContext.logFields($0.message.headers)) }) { $1 }
        return InFlightBatch(lastIDs: lastIDs, toSend: toSend.map(\.0), audits: audits, held: held, blocked: blocked,
                             logFields: logFields,
                             blockedKeys: blockedKeys, deliveries: producer.startSending(toSend.map(\.1)))
    }

    /// Marks the batches whose reports have all arrived (oldest first; with `waiting`, every
    /// batch, waiting for its reports): published rows with their partition and offset and
    /// their transfer-log records in one transaction, held rows with the reason. A delivery
    /// failure is thrown once the batches before and after it are marked: the failed rows stay
    /// unpublished and go out again.
    private func finishDelivered(_ inFlight: inout [InFlightBatch], on conn: PostgresConnection, waiting: Bool = false) throws {
        var firstFailure: KafkaError? = nil
        while let batch = inFlight.first, waiting || firstFailure != nil || batch.deliveries.isComplete {
            let failure = try mark(batch, on: conn)
            inFlight.removeFirst()
            if firstFailure == nil { firstFailure = failure }
        }
        if let firstFailure { throw firstFailure }
    }

    /// Records one batch once its reports are in; returns its first delivery failure.
    private func mark(_ batch: InFlightBatch, on conn: PostgresConnection) throws -> KafkaError? {
        let results = batch.deliveries.wait()
        var ids: [Int64] = [], partitions: [Int32] = [], offsets: [Int64] = []
        var firstFailure: KafkaError? = nil
        // Rows Kafka will never take: held with the reason, and their key blocked behind them.
        var refused: [(id: Int64, reason: String)] = []
        var perTopic: [String: Int] = [:]
        let now = Date()
        for (row, result) in zip(batch.toSend, results) {
            switch result {
            case .success(let report):
                ids.append(row.id)
                partitions.append(report.partition)
                offsets.append(report.offset)
                perTopic[row.topic, default: 0] += 1
                metrics.publishLatency.record(.milliseconds(Int64(now.timeIntervalSince(row.createdAt) * 1000)))
            case .failure(let error) where error.isPermanentForMessage:
                refused.append((row.id, "\(HoldReason.kafkaRefused.text): \(error.code)"))
            case .failure(let error):
                metrics.deliveryFailed(error.code.name)
                if firstFailure == nil { firstFailure = error }
            }
        }
        let held = batch.held
        let blocking = refused + batch.blocked.map { (id: $0.0, reason: $0.1) }
        let audited = ids.compactMap { batch.audits[$0] }
        try conn.sync { conn in
            try conn.transaction { tx in
                if !ids.isEmpty {
                    // A row delivered while an earlier row of its key was being refused (both in
                    // flight at once) has overtaken it: published it is, and the log says so.
                    let overtook = try tx.query("""
                        UPDATE outbox SET published_at = now(), published_partition = u.p, published_offset = u.o
                        FROM unnest(\(ids)::bigint[], \(partitions)::int[], \(offsets)::bigint[]) AS u(id, p, o)
                        WHERE outbox.id = u.id
                        RETURNING outbox.id, EXISTS (SELECT 1 FROM outbox h WHERE h.blocks_key AND h.topic = outbox.topic
                                                         AND h.message_key = outbox.message_key AND h.id < outbox.id)
                        """).filter { try $0.decode(Bool.self, at: 1) }.map { try $0.decode(Int64.self, at: 0) }
                    if !overtook.isEmpty {
                        logger.error("rows delivered after an earlier row of their key was refused: that key's order is broken",
                                     metadata: ["outbox_ids": "\(overtook)"])
                    }
                }
                if !blocking.isEmpty {
                    try tx.execute("""
                        UPDATE outbox SET held_at = now(), held_reason = u.reason, blocks_key = true
                        FROM unnest(\(blocking.map(\.id))::bigint[], \(blocking.map(\.reason))::text[]) AS u(id, reason)
                        WHERE outbox.id = u.id
                        """)
                }
                // The transfer log, in the same transaction that marks the rows published (its
                // function runs a few statements per row: planned once, not per row).
                if !audited.isEmpty {
                    let fields = try audited.map { try PostgresJSON(encoding: $0.fields) }
                    let subjects = try audited.map { try PostgresJSON(encoding: $0.subjects) }
                    let appended = try tx.withCachedPlans {
                        try tx.query("""
                            SELECT seq, hash FROM audit_append(\(audited.map(\.destination))::text[], \(audited.map(\.eventID))::text[],
                                                \(audited.map(\.eventType))::text[], \(audited.map(\.atenaNo))::text[],
                                                \(fields)::jsonb[], \(audited.map(\.legalBasis))::text[], \(subjects)::jsonb[],
                                                \(options.instance))
                            """).map { (try $0.decode(Int64.self, at: 0), try $0.decode(String.self, at: 1)) }
                    }
                    if let key = options.auditMac {
                        _ = try tx.query("""
                            SELECT audit_mac_append(\(appended.map(\.0))::bigint[], \(appended.map { key.mac(seq: $0.0, hash: $0.1) })::text[])
                            """)
                    }
                }
                if !held.isEmpty {
                    try tx.execute("""
                        UPDATE outbox SET held_at = now(), held_reason = u.reason
                        FROM unnest(\(held.map(\.0))::bigint[], \(held.map(\.1))::text[]) AS u(id, reason)
                        WHERE outbox.id = u.id
                        """)
                }
            }
        }
        for (topic, count) in perTopic { metrics.published(topic, count) }
        for (id, reason) in held {
            logger.error("outbox row held by the publish policy",
                         metadata: batch.logFields(of: id).merging(["outbox_id": "\(id)", "reason": "\(reason)"]) { $1 })
            metrics.held(HoldReason.code(of: reason))
        }
        for (id, reason) in blocking {
            logger.error("outbox row held: Kafka refused it or an earlier row of its key; `koki outbox release` sends them on",
                         metadata: batch.logFields(of: id).merging(["outbox_id": "\(id)", "reason": "\(reason)"]) { $1 })
            metrics.held(HoldReason.code(of: reason))
        }
        return firstFailure
    }

    /// Purges published rows past their retention, and rows the transfer policy held past
    /// theirs (a transfer without a basis is not kept for ever; a row Kafka refused is kept
    /// until an operator releases it). Chunks of 10,000 until done or a second has passed, so
    /// the purge keeps up with any rate a relay publishes at.
    private func housekeeping(_ conn: PostgresConnection) throws {
        let retentionSeconds = Int(options.retention.components.seconds)
        let heldSeconds = Int(options.heldRetention.components.seconds)
        let deadline = ContinuousClock.now + .seconds(1)
        let backlog = try conn.sync { conn -> Int in
            while try conn.execute("""
                DELETE FROM outbox WHERE id IN (
                    SELECT id FROM outbox WHERE published_at < now() - make_interval(secs => \(retentionSeconds))
                    LIMIT 10000)
                """) == 10000, ContinuousClock.now < deadline {}
            if heldSeconds > 0 {
                try conn.execute("""
                    DELETE FROM outbox WHERE id IN (
                        SELECT id FROM outbox WHERE held_at < now() - make_interval(secs => \(heldSeconds))
                          AND published_at IS NULL AND NOT blocks_key
                        LIMIT 10000)
                    """)
            }
            return try conn.query("SELECT count(*) FROM outbox WHERE published_at IS NULL AND held_at IS NULL")[0]
                .decode(Int.self, at: 0)
        }
        metrics.outboxBacklog(backlog)
        // Gauges the store defines (`store_gauges`: name, label, label value, value — counts only,
        // never a person), where the schema has them.
        let gauges = try conn.sync { conn -> [(String, String, String, Int)] in
            guard try conn.query("SELECT to_regclass('store_gauges') IS NOT NULL")[0].decode(Bool.self, at: 0) else { return [] }
            return try conn.query("SELECT name, label, label_value, value FROM store_gauges").map {
                (try $0.decode(String.self, at: 0), try $0.decode(String.self, at: 1), try $0.decode(String.self, at: 2),
                 try $0.decode(Int.self, at: 3))
            }
        }
        for (name, label, value, count) in gauges { metrics.storeGauge(name, label: label, value: value, count) }
    }
}
