import Foundation

extension PostgresConnection {
    /// `KOKI_DATABASE_URL` (a URI or `key=value` string), or — when it is unset — an empty
    /// conninfo, so libpq reads its own `PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`,
    /// `PGDATABASE`, `PGSSLMODE` … variables.
    public static func conninfo(from env: [String: String] = ProcessInfo.processInfo.environment) -> String {
        env["KOKI_DATABASE_URL"] ?? ""
    }
}
