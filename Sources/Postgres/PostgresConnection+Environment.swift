import Foundation

extension PostgresConnection {
    /// `KOKI_DATABASE_URL` (a URI or `key=value` string), or — when it is unset — an empty
    /// conninfo, so libpq reads its own `PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`,
    /// `PGDATABASE`, `PGSSLMODE` … variables.
    public static func conninfo(from env: [String: String] = ProcessInfo.processInfo.environment) -> String {
        env["KOKI_DATABASE_URL"] ?? ""
    }

    /// `conninfo` with the session's role set at connection start (libpq's `options=-c role=…`,
    /// the same as `SET ROLE`): the login user must be a member of `role`.
    public static func conninfo(_ conninfo: String, role: String) -> String {
        self.conninfo(conninfo, role: role, timeouts: nil)
    }

    /// `conninfo` with, optionally, the session's role and the timeouts: libpq's own keywords
    /// for the connection, one `options` for the session's settings (libpq keeps only the last
    /// `options` given).
    public static func conninfo(_ conninfo: String, role: String?, timeouts: DatabaseTimeouts?) -> String {
        var settings: [(String, String)] = []
        if let role, !role.isEmpty { settings.append(("role", role)) }
        settings += timeouts?.sessionSettings ?? []
        let keywords = timeouts?.connectionKeywords ?? []
        if conninfo.hasPrefix("postgres://") || conninfo.hasPrefix("postgresql://") {
            var parameters = keywords.map { "\($0.0)=\($0.1)" }
            if !settings.isEmpty {
                parameters.append("options=" + settings.map { "-c%20\($0.0)%3D\($0.1)" }.joined(separator: "%20"))
            }
            guard !parameters.isEmpty else { return conninfo }
            return conninfo + (conninfo.contains("?") ? "&" : "?") + parameters.joined(separator: "&")
        }
        var parts = conninfo.isEmpty ? [] : [conninfo]
        parts += keywords.map { "\($0.0)=\($0.1)" }
        if !settings.isEmpty { parts.append("options='" + settings.map { "-c \($0.0)=\($0.1)" }.joined(separator: " ") + "'") }
        return parts.joined(separator: " ")
    }

    /// Whether `name` is a plain role name koki accepts (lower-case letters, digits, `_`).
    public static func isPlainRoleName(_ name: String) -> Bool {
        guard let first = name.utf8.first, (97...122).contains(first) || first == 95, name.utf8.count <= 63 else { return false }
        return name.utf8.allSatisfy { (97...122).contains($0) || (48...57).contains($0) || $0 == 95 }
    }
}

/// How long a koki process waits on the database before it backs off: a held lock, a runaway
/// statement, a half-open connection after a failover or a session left idle in a transaction
/// must not freeze a worker inside libpq (where nothing polls Kafka, /livez fails and the
/// relay's bucket locks stay with a dead session). Every timeout ends in an error the worker
/// classifies as transient: it backs off and tries again.
public struct DatabaseTimeouts: Sendable, Equatable {
    /// `KOKI_DB_CONNECT_TIMEOUT_S` (default 10).
    public var connectSeconds = 10
    /// `KOKI_DB_KEEPALIVE_S` (default 30): TCP keepalive probes after this much silence, and a
    /// connection given up after about as long again unanswered.
    public var keepaliveSeconds = 30
    /// `KOKI_DB_LOCK_TIMEOUT_MS` (default 20,000): the longest wait for one lock — under the 30 s
    /// after which a loop that has not come round fails /livez, so a worker waiting on a lock
    /// backs off before its orchestrator kills it.
    public var lockMilliseconds = 20_000
    /// `KOKI_DB_STATEMENT_TIMEOUT_MS` (default 1,800,000): the longest statement — generous, for
    /// the 本算定 of a whole city.
    public var statementMilliseconds = 1_800_000
    /// `KOKI_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS` (default 600,000).
    public var idleInTransactionMilliseconds = 600_000

    public init() {}

    public struct Invalid: Error, CustomStringConvertible, Sendable {
        public let variable: String
        public let range: ClosedRange<Int>
        public var description: String {
            "\(variable) must be a whole number in \(range.lowerBound)...\(range.upperBound)"
        }
    }

    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws(Invalid) -> DatabaseTimeouts {
        func value(_ name: String, _ fallback: Int, _ range: ClosedRange<Int>) throws(Invalid) -> Int {
            guard let text = env[name], !text.isEmpty else { return fallback }
            guard let number = Int(text), range.contains(number) else { throw Invalid(variable: name, range: range) }
            return number
        }
        var timeouts = DatabaseTimeouts()
        timeouts.connectSeconds = try value("KOKI_DB_CONNECT_TIMEOUT_S", timeouts.connectSeconds, 2...600)
        timeouts.keepaliveSeconds = try value("KOKI_DB_KEEPALIVE_S", timeouts.keepaliveSeconds, 1...3600)
        timeouts.lockMilliseconds = try value("KOKI_DB_LOCK_TIMEOUT_MS", timeouts.lockMilliseconds, 1...86_400_000)
        timeouts.statementMilliseconds = try value("KOKI_DB_STATEMENT_TIMEOUT_MS", timeouts.statementMilliseconds, 1...86_400_000)
        timeouts.idleInTransactionMilliseconds = try value("KOKI_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS",
                                                           timeouts.idleInTransactionMilliseconds, 1...86_400_000)
        return timeouts
    }

    /// libpq's connection keywords.
    var connectionKeywords: [(String, String)] {
        [("connect_timeout", "\(connectSeconds)"), ("keepalives", "1"), ("keepalives_idle", "\(keepaliveSeconds)"),
         ("keepalives_interval", "\(max(1, keepaliveSeconds / 3))"), ("keepalives_count", "3"),
         ("tcp_user_timeout", "\(keepaliveSeconds * 2 * 1000)")]
    }

    /// The session's settings.
    var sessionSettings: [(String, String)] {
        [("lock_timeout", "\(lockMilliseconds)"), ("statement_timeout", "\(statementMilliseconds)"),
         ("idle_in_transaction_session_timeout", "\(idleInTransactionMilliseconds)")]
    }
}
