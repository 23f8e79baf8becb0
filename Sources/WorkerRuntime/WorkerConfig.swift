import Foundation
import Kafka
import KokiSecrets
import Postgres

/// Everything a worker process reads from its environment, once, at start-up. Every koki
/// executable reads the same names (docs/configuration.md).
public struct WorkerConfig: Sendable, CustomStringConvertible {
    public var kafka: KafkaConfig
    /// `KOKI_DATABASE_URL`, or empty for libpq's `PG*` variables.
    public var databaseURL: String
    /// `KOKI_GROUP_ID` (default: the worker's name).
    public var groupID: String
    /// `KOKI_BATCH_MAX_EVENTS` (default 1000).
    public var maxBatch: Int
    /// `KOKI_BATCH_MAX_WAIT_MS` (default 100).
    public var maxWait: Duration
    /// `KOKI_TRANSACTION_PER_EVENT=true`: the naive mode, one transaction per event (for benchmarks).
    public var transactionPerEvent: Bool
    /// `KOKI_HTTP_PORT` (default: the executable's own; 0 picks a free port).
    public var httpPort: Int
    /// `KOKI_SHUTDOWN_BUDGET_S` (default 20): the time SIGTERM allows to finish and leave.
    public var shutdownBudget: Duration
    /// `KOKI_RETRY_MAX_MS` (default 5000): the cap on back-off between retries.
    public var retryMax: Duration
    /// `KOKI_DB_CONNECTIONS` (default 1): database connections applying one topic's partitions'
    /// batches at once, as that many members of the group would. More than one is for benchmarks
    /// so far: the tax worker's end-to-end death test depends on the order of batches that two
    /// connections apply concurrently, and failed once in three runs.
    public var connections: Int
    /// `KOKI_WAIT_LIMIT_S` (default 3600): how long a batch may wait for another worker's
    /// business day (`NotYet`) before its partition stops with the reason on /readyz.
    public var waitLimit: Duration
    /// `KOKI_CRASH_LIMIT` (default 3, at least 2): how many processes in a row may die applying
    /// one event before the next start dead-letters it instead (the crash-loop breaker). At
    /// least 2, because a single event split from a batch that crashed starts with the batch's
    /// count, and the batch's crash may have been another event's.
    public var crashLimit: Int
    /// `KOKI_INBOX_RETENTION_DAYS` (default 30, 0: kept): how long the inbox remembers an applied
    /// event, i.e. the window in which an upstream re-publishing it is recognised as a duplicate.
    public var inboxRetentionDays: Int
    /// `KOKI_DEAD_LETTER_RETENTION_DAYS` (default 90, 0: kept): a dead letter's body (raw input,
    /// perhaps a name or a 個人番号) is dropped after this long even if nobody resolved it.
    public var deadLetterRetentionDays: Int
    /// `KOKI_BATCH_MAX_BYTES` (default 64 MiB): a partition's batch is cut where its bodies would
    /// exceed this, whatever `maxBatch` allows (memory per batch is bounded by bytes, not count).
    public var maxBatchBytes: Int
    /// `KOKI_START_MIDSTREAM=true`: a partition this group has never applied may begin at the
    /// earliest event Kafka still has. Without it such a partition, whose first events retention
    /// already deleted, stops with the reason: an operator decides that nothing is missing.
    public var startMidStream: Bool
    /// `KOKI_DLQ_PUBLIC_KEY`: the operators' public key dead letters' bodies are sealed to (unset:
    /// a dead letter keeps no body — nothing in clear, and no replay from koki).
    public var deadLetterSeal: DeadLetterSeal?

    public init(kafka: KafkaConfig, databaseURL: String, groupID: String, maxBatch: Int = 1000,
                maxWait: Duration = .milliseconds(100), transactionPerEvent: Bool = false, httpPort: Int = 0,
                shutdownBudget: Duration = .seconds(20), retryMax: Duration = .seconds(5), connections: Int = 1,
                waitLimit: Duration = .seconds(3600), crashLimit: Int = 3, inboxRetentionDays: Int = 30,
                deadLetterRetentionDays: Int = 90,
                maxBatchBytes: Int = 64 << 20, startMidStream: Bool = false, deadLetterSeal: DeadLetterSeal? = nil) {
        self.kafka = kafka
        self.databaseURL = databaseURL
        self.groupID = groupID
        self.maxBatch = maxBatch
        self.maxWait = maxWait
        self.transactionPerEvent = transactionPerEvent
        self.httpPort = httpPort
        self.shutdownBudget = shutdownBudget
        self.retryMax = retryMax
        self.connections = connections
        self.waitLimit = waitLimit
        self.crashLimit = crashLimit
        self.inboxRetentionDays = inboxRetentionDays
        self.deadLetterRetentionDays = deadLetterRetentionDays
        self.maxBatchBytes = maxBatchBytes
        self.startMidStream = startMidStream
        self.deadLetterSeal = deadLetterSeal
    }

    public struct Invalid: Error, CustomStringConvertible {
        public let variable: String
        public let expected: String
        public var description: String { "\(variable) must be \(expected)" }
    }

    /// `defaultRole` is the database role the executable works as (least privilege); the login
    /// user of `KOKI_DATABASE_URL` must be a member of it. `KOKI_DB_ROLE` overrides it (`none`:
    /// work as the login user).
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment,
                                       name: String, defaultHTTPPort: Int, defaultRole: String? = nil) throws -> WorkerConfig {
        func int(_ key: String, _ fallback: Int, _ range: ClosedRange<Int>) throws -> Int {
            try integer(env, key, fallback, range)
        }
        func flag(_ key: String) throws -> Bool {
            switch env[key]?.lowercased() {
            case nil, "", "false", "0", "no": return false
            case "true", "1", "yes": return true
            default: throw Invalid(variable: key, expected: "true or false")
            }
        }
        func seal() throws -> DeadLetterSeal? {
            do { return try DeadLetterSeal.fromEnvironment(env) } catch {
                throw Invalid(variable: "KOKI_DLQ_PUBLIC_KEY", expected: "a 32-byte X25519 public key in base64 (koki keys dlq-generate)")
            }
        }
        let transactionPerEvent = try flag("KOKI_TRANSACTION_PER_EVENT")
        let startMidStream = try flag("KOKI_START_MIDSTREAM")
        let role = env["KOKI_DB_ROLE"].map { $0 == "none" ? "" : $0 } ?? defaultRole ?? ""
        if !role.isEmpty {
            guard PostgresConnection.isPlainRoleName(role) else {
                throw Invalid(variable: "KOKI_DB_ROLE", expected: "a role name (lower-case letters, digits, _) or none")
            }
        }
        let timeouts: DatabaseTimeouts
        do { timeouts = try DatabaseTimeouts.fromEnvironment(env) } catch {
            throw Invalid(variable: error.variable, expected: "a whole number in \(error.range.lowerBound)...\(error.range.upperBound)")
        }
        let databaseURL = PostgresConnection.conninfo(PostgresConnection.conninfo(from: env), role: role, timeouts: timeouts)
        return WorkerConfig(
            kafka: try KafkaConfig.fromEnvironment(env, clientID: name),
            databaseURL: databaseURL,
            groupID: env["KOKI_GROUP_ID"].flatMap { $0.isEmpty ? nil : $0 } ?? name,
            maxBatch: try int("KOKI_BATCH_MAX_EVENTS", 1000, 1...100_000),
            maxWait: .milliseconds(try int("KOKI_BATCH_MAX_WAIT_MS", 100, 1...60_000)),
            transactionPerEvent: transactionPerEvent,
            httpPort: try int("KOKI_HTTP_PORT", defaultHTTPPort, 0...65535),
            shutdownBudget: .seconds(try int("KOKI_SHUTDOWN_BUDGET_S", 20, 1...600)),
            retryMax: .milliseconds(try int("KOKI_RETRY_MAX_MS", 5000, 10...600_000)),
            connections: try int("KOKI_DB_CONNECTIONS", 1, 1...16),
            waitLimit: .seconds(try int("KOKI_WAIT_LIMIT_S", 3600, 1...604_800)),
            crashLimit: try int("KOKI_CRASH_LIMIT", 3, 2...100),
            inboxRetentionDays: try int("KOKI_INBOX_RETENTION_DAYS", 30, 0...3650),
            deadLetterRetentionDays: try int("KOKI_DEAD_LETTER_RETENTION_DAYS", 90, 0...3650),
            maxBatchBytes: try int("KOKI_BATCH_MAX_BYTES", 64 << 20, 1 << 20...1 << 31),
            startMidStream: startMidStream,
            deadLetterSeal: try seal())
    }

    /// A whole-number variable, or `fallback` when unset; out of `range` is an error naming it.
    static func integer(_ env: [String: String], _ key: String, _ fallback: Int, _ range: ClosedRange<Int>) throws -> Int {
        guard let text = env[key], !text.isEmpty else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw Invalid(variable: key, expected: "a whole number in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    public var description: String {
        "WorkerConfig(group: \(groupID), batch: \(maxBatch)/\(maxWait), perEvent: \(transactionPerEvent), "
            + "connections: \(connections), http: \(httpPort), shutdown: \(shutdownBudget), \(kafka))"
    }
}
