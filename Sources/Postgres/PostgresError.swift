/// One error type for the wrapper. `description` names the operation, the SQLSTATE and
/// schema objects (constraint, table, column) — never a parameter value or the server's
/// free text, which may quote values — so it is safe to log.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case connection, query, transaction, copy, decode, migration, usage
    }

    public let kind: Kind
    /// Five-character SQLSTATE, when the server sent one.
    public let sqlState: String?
    public let constraint: String?
    public let table: String?
    public let column: String?
    /// Whether retrying the same work later may succeed (lost connection, serialization
    /// failure, deadlock, server shutdown, resource exhaustion).
    public let isTransient: Bool
    /// The server's or libpq's own message. It may quote values from the statement:
    /// never log it; `koki migrate` shows it for schema files, which hold no personal data.
    public let serverMessage: String?
    /// Our own context, written by koki (no values).
    public let context: String

    public init(_ kind: Kind, _ context: String, sqlState: String? = nil, constraint: String? = nil,
                table: String? = nil, column: String? = nil, connectionLost: Bool = false,
                serverMessage: String? = nil) {
        self.kind = kind
        self.context = context
        self.sqlState = sqlState
        self.constraint = constraint
        self.table = table
        self.column = column
        self.serverMessage = serverMessage
        self.isTransient = connectionLost || PostgresError.isTransient(sqlState: sqlState)
    }

    public var isPermanent: Bool { !isTransient }

    /// Why a connection could not be made or was lost, as libpq says it (the host and port, or
    /// the login the server refused — never a password, never a statement's values): for the
    /// logs an operator reads. Its first line, printable characters only, at most 200; nil for
    /// any error but a connection's.
    public var connectionFailureReason: String? {
        guard kind == .connection, let message = serverMessage else { return nil }
        let line = message.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        let printable = String(String.UnicodeScalarView(line.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }))
        return printable.isEmpty ? nil : String(printable.prefix(200))
    }

    /// The classification every worker relies on to decide between retry and dead letter.
    public static func isTransient(sqlState: String?) -> Bool {
        guard let sqlState else { return false }
        switch sqlState {
        case "40001", "40P01": return true            // serialization failure, deadlock
        case "57P01", "57P02", "57P03": return true   // admin / crash shutdown, cannot connect now
        case "55P03": return true                     // lock not available (lock_timeout)
        case "57014": return true                     // canceled: statement_timeout, or an operator's cancel
        default:
            return sqlState.hasPrefix("08")            // connection exceptions
                || sqlState.hasPrefix("53")            // insufficient resources
                || sqlState.hasPrefix("58")            // system error (I/O)
        }
    }

    public var conditionName: String? { sqlState.flatMap { PostgresError.conditionNames[$0] } }

    public var description: String {
        var text = "postgres \(kind.rawValue) failed: \(context)"
        if let sqlState {
            text += " [SQLSTATE \(sqlState)"
            if let name = conditionName { text += " \(name)" }
            text += "]"
        }
        var objects: [String] = []
        if let constraint { objects.append("constraint \(constraint)") }
        if let table { objects.append("table \(table)") }
        if let column { objects.append("column \(column)") }
        if !objects.isEmpty { text += " (" + objects.joined(separator: ", ") + ")" }
        text += isTransient ? " — transient" : " — permanent"
        return text
    }

    static let conditionNames: [String: String] = [
        "23505": "unique_violation", "23503": "foreign_key_violation", "23502": "not_null_violation",
        "23514": "check_violation", "22P02": "invalid_text_representation", "22003": "numeric_value_out_of_range",
        "22001": "string_data_right_truncation", "22007": "invalid_datetime_format", "22008": "datetime_field_overflow",
        "42601": "syntax_error", "42P01": "undefined_table", "42703": "undefined_column", "42501": "insufficient_privilege",
        "40001": "serialization_failure", "40P01": "deadlock_detected", "57P01": "admin_shutdown",
        "57P02": "crash_shutdown", "57P03": "cannot_connect_now", "55P03": "lock_not_available",
        "53100": "disk_full", "53200": "out_of_memory", "53300": "too_many_connections",
        "08000": "connection_exception", "08003": "connection_does_not_exist", "08006": "connection_failure",
        "25P02": "in_failed_sql_transaction", "P0001": "raise_exception",
    ]
}
