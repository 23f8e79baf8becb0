import Foundation
import Postgres
import Testing

@Suite("Migrations")
struct MigrationTests {
    /// A temp directory of migration files.
    func directory(_ files: [String: String]) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mig-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (name, sql) in files {
            try Data(sql.utf8).write(to: dir.appendingPathComponent(name))
        }
        return dir
    }

    let first = "CREATE TABLE a (id int PRIMARY KEY);"
    let second = "CREATE TABLE b (id int PRIMARY KEY); INSERT INTO a VALUES (1);"

    @Test func applyOnceInOrderThenNothing() async throws {
        let conn = try await TestDatabase.connect()
        let dir = try directory(["0002_b.sql": second, "0001_a.sql": first])
        let migrator = try Migrator(directory: dir)
        let applied = try await conn.run { try migrator.apply(on: $0).map(\.name) }
        #expect(applied == ["0001_a.sql", "0002_b.sql"])
        let again = try await conn.run { try migrator.apply(on: $0) }
        #expect(again.isEmpty)
        let recorded = try await conn.run { try migrator.appliedMigrations(on: $0) }
        #expect(recorded.map(\.version) == [1, 2])
        #expect(recorded.allSatisfy { $0.checksum.count == 64 })
    }

    @Test func aFailingMigrationLeavesNoTraceAndStopsTheRun() async throws {
        let conn = try await TestDatabase.connect()
        let dir = try directory(["0001_a.sql": first, "0002_bad.sql": "CREATE TABLE c (id int); SELEKT 1;",
                                 "0003_c.sql": "CREATE TABLE d (id int);"])
        let migrator = try Migrator(directory: dir)
        let error = await #expect(throws: PostgresError.self) { try await conn.run { try migrator.apply(on: $0) } }
        #expect(error?.kind == .migration)
        #expect(error?.description.contains("0002_bad.sql") == true)
        let state = try await conn.run { conn in
            (try migrator.appliedMigrations(on: conn).map(\.name),
             try conn.query("SELECT to_regclass('c') IS NULL AND to_regclass('d') IS NULL")[0].decode(Bool.self, at: 0))
        }
        #expect(state.0 == ["0001_a.sql"])
        #expect(state.1)
    }

    @Test func anEditedAppliedFileIsRefused() async throws {
        let conn = try await TestDatabase.connect()
        try await conn.run { try Migrator(directory: try directory(["0001_a.sql": first])).apply(on: $0) }
        let edited = try Migrator(directory: try directory(["0001_a.sql": first + " -- edited", "0002_b.sql": second]))
        let error = await #expect(throws: PostgresError.self) { try await conn.run { try edited.apply(on: $0) } }
        #expect(error?.description.contains("edited") == true)
        let tables = try await conn.run { try $0.query("SELECT to_regclass('b') IS NULL")[0].decode(Bool.self, at: 0) }
        #expect(tables, "nothing after the refusal may be applied")
    }

    @Test func appliedMustBeAPrefixOfTheFiles() async throws {
        let conn = try await TestDatabase.connect()
        try await conn.run { try Migrator(directory: try directory(["0001_a.sql": first, "0003_c.sql": "SELECT 1;"])).apply(on: $0) }
        // A file inserted before the last applied one.
        let inserted = try Migrator(directory: try directory(["0001_a.sql": first, "0002_b.sql": second, "0003_c.sql": "SELECT 1;"]))
        await #expect(throws: PostgresError.self) { try await conn.run { try inserted.apply(on: $0) } }
        // An applied file removed.
        let removed = try Migrator(directory: try directory(["0003_c.sql": "SELECT 1;"]))
        await #expect(throws: PostgresError.self) { try await conn.run { try removed.apply(on: $0) } }
    }

    @Test func badFileNamesAndDuplicateVersionsAreRefused() throws {
        #expect(throws: PostgresError.self) { try Migrator(directory: try directory(["first.sql": first])) }
        #expect(throws: PostgresError.self) { try Migrator(directory: try directory(["0001_a.sql": first, "1_b.sql": second])) }
    }

    @Test func theRepositoryMigrationsApply() async throws {
        let conn = try await TestDatabase.connect()
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("migrations")
        let migrator = try Migrator(directory: repo)
        #expect(!migrator.migrations.isEmpty)
        let applied = try await conn.run { try migrator.apply(on: $0) }
        #expect(applied.count == migrator.migrations.count)
        #expect(try await conn.run { try migrator.apply(on: $0) }.isEmpty)
    }
}
