import ArgumentParser
import Foundation
import KokiSecrets
import Postgres

/// `koki migrate` — applies pending schema migrations.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending migrations from the migrations directory (KOKI_DATABASE_URL or PG* variables).")

    @Option(help: "Directory of NNNN_name.sql files (default: $KOKI_MIGRATIONS_DIR or ./migrations).")
    var dir: String?

    mutating func run() async throws {
        let env = ProcessInfo.processInfo.environment
        let directory = dir ?? env["KOKI_MIGRATIONS_DIR"] ?? "migrations"
        do {
            let migrator = try Migrator(directory: URL(fileURLWithPath: directory))
            let conn = try await PostgresConnection.connect(PostgresConnection.conninfo(from: env))
            // 0008 seals the plaintext 個人番号 values (the sealing and lookup keys, needed only if there are any).
            let intake = try MyNumberIntake.fromEnvironment(env)
            let applied = try await conn.run {
                try migrator.apply(on: $0, after: [8: { try MyNumberSealing.sealPlaintext(on: $0, intake: intake) }])
            }
            if applied.isEmpty {
                print("koki migrate: up to date (\(migrator.migrations.count) migrations)")
            } else {
                for migration in applied { print("applied \(migration.name)") }
                print("koki migrate: applied \(applied.count), \(migrator.migrations.count) in all")
            }
        } catch let error as MyNumberKeys.Failure {
            throw fail(error.description)
        } catch let error as PostgresError {
            // Schema files and connection errors carry no personal data: show the server's text.
            throw fail([error.description, error.serverMessage].compactMap { $0 }.joined(separator: ": "))
        }
    }
}
