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
        if conninfo.hasPrefix("postgres://") || conninfo.hasPrefix("postgresql://") {
            return conninfo + (conninfo.contains("?") ? "&" : "?") + "options=-c%20role%3D" + role
        }
        return (conninfo.isEmpty ? "" : conninfo + " ") + "options='-c role=\(role)'"
    }

    /// Whether `name` is a plain role name koki accepts (lower-case letters, digits, `_`).
    public static func isPlainRoleName(_ name: String) -> Bool {
        guard let first = name.utf8.first, (97...122).contains(first) || first == 95, name.utf8.count <= 63 else { return false }
        return name.utf8.allSatisfy { (97...122).contains($0) || (48...57).contains($0) || $0 == 95 }
    }
}
