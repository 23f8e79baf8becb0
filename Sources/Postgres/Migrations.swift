import Foundation

/// One numbered schema file from `migrations/` (`0001_runtime.sql`).
public struct Migration: Sendable, Hashable {
    public let version: Int
    public let name: String
    public let sql: String
}

/// Applies numbered plain-SQL files in order, one transaction each, and records name and
/// checksum in `schema_migrations`. Refuses to run when an applied file was edited, or
/// when what was applied is not a prefix of the files (a file removed, renamed or
/// inserted before the last applied one).
public struct Migrator: Sendable {
    public let migrations: [Migration]

    public init(migrations: [Migration]) throws {
        let sorted = migrations.sorted { $0.version < $1.version }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.version == b.version {
            throw PostgresError(.migration, "two migrations share version \(a.version): \(a.name), \(b.name)")
        }
        self.migrations = sorted
    }

    /// Reads every `NNNN_name.sql` file in `directory`.
    public init(directory: URL) throws {
        let files: [String]
        do {
            files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw PostgresError(.migration, "cannot read the migrations directory \(directory.path)")
        }
        var found: [Migration] = []
        for file in files where file.hasSuffix(".sql") {
            let stem = file.dropLast(4)
            guard let underscore = stem.firstIndex(of: "_"), let version = Int(stem[..<underscore]) else {
                throw PostgresError(.migration, "\(file) is not named NNNN_name.sql")
            }
            let url = directory.appendingPathComponent(file)
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw PostgresError(.migration, "cannot read \(file)")
            }
            found.append(Migration(version: version, name: file, sql: String(decoding: data, as: UTF8.self)))
        }
        try self.init(migrations: found)
    }

    public struct Applied: Sendable, Hashable {
        public let version: Int
        public let name: String
        public let checksum: String
    }

    /// Applies what is pending; returns the migrations it applied (empty on a second run).
    /// `after[version]`, when given, runs in that migration's transaction after its SQL — for a
    /// data conversion SQL cannot do (sealing values with a key the server never sees).
    /// Must run on the connection's thread (inside `run` or `sync`).
    @discardableResult
    public func apply(on conn: PostgresConnection,
                      after: [Int: (PostgresConnection) throws -> Void] = [:]) throws -> [Migration] {
        try conn.executeScript(unsafeSQL: """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                checksum   text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
        // One migrator at a time across every process; released at the end of the session
        // or below.
        try conn.query("SELECT pg_advisory_lock(\(Self.lockKey))")
        defer { _ = try? conn.query("SELECT pg_advisory_unlock(\(Self.lockKey))") }

        let applied = try appliedMigrations(on: conn)
        try verify(applied: applied, on: conn)
        var done: [Migration] = []
        for migration in migrations.dropFirst(applied.count) {
            let checksum = try Self.checksum(migration.sql, on: conn)
            do {
                try conn.transaction { tx in
                    try tx.executeScript(unsafeSQL: migration.sql)
                    try after[migration.version]?(tx)
                    try tx.execute("""
                        INSERT INTO schema_migrations (version, name, checksum)
                        VALUES (\(migration.version), \(migration.name), \(checksum))
                        """)
                }
            } catch let error as PostgresError {
                throw PostgresError(.migration, "\(migration.name) failed: \(error.context)", sqlState: error.sqlState,
                                    constraint: error.constraint, table: error.table, column: error.column,
                                    serverMessage: error.serverMessage)
            }
            done.append(migration)
        }
        return done
    }

    public func appliedMigrations(on conn: PostgresConnection) throws -> [Applied] {
        try conn.query("SELECT version, name, checksum FROM schema_migrations ORDER BY version").map { row in
            let (version, name, checksum) = try row.decode(Int.self, String.self, String.self)
            return Applied(version: version, name: name, checksum: checksum)
        }
    }

    /// The applied list must be a prefix of the files, each with an unchanged checksum.
    func verify(applied: [Applied], on conn: PostgresConnection) throws {
        for (index, record) in applied.enumerated() {
            guard index < migrations.count, migrations[index].version == record.version,
                  migrations[index].name == record.name else {
                throw PostgresError(.migration, """
                    applied migration \(record.name) is not the file at position \(index + 1) in the migrations \
                    directory; applied migrations must be a prefix of the files
                    """)
            }
            if try Self.checksum(migrations[index].sql, on: conn) != record.checksum {
                throw PostgresError(.migration, "\(record.name) was edited after it was applied; add a new migration instead")
            }
        }
    }

    /// SHA-256 of the file's text, computed by the server (no crypto dependency here).
    static func checksum(_ sql: String, on conn: PostgresConnection) throws -> String {
        try conn.query("SELECT encode(sha256(convert_to(\(sql), 'UTF8')), 'hex')")[0].decode(String.self, at: 0)
    }

    /// Arbitrary constant naming koki's migration lock.
    static let lockKey: Int64 = 0x6B6F_6B69_6D69_67
}
