import Foundation
import Postgres
import Testing

/// Data statements are prepared once per session and then run by name.
@Suite("Prepared statements")
struct PreparedStatementTests {
    @Test func aRepeatedStatementGivesEachCallItsOwnValues() async throws {
        let conn = try await TestDatabase.connect()
        let sums = try await conn.run { conn in
            try (0..<50).map { i in try conn.query("SELECT \(i)::int + \(1000)::int")[0].decode(Int.self, at: 0) }
        }
        #expect(sums == (0..<50).map { $0 + 1000 })
        let prepared = try await conn.run {
            try $0.query("SELECT count(*)::int FROM pg_prepared_statements WHERE NOT from_sql")[0].decode(Int.self, at: 0)
        }
        #expect(prepared == 2, "the statement and this count, each prepared once")
    }

    @Test func eachExecutionIsPlannedWithItsValues() async throws {
        let conn = try await TestDatabase.connect()
        let mode = try await conn.run { try $0.query("SHOW plan_cache_mode")[0].decode(String.self, at: 0) }
        #expect(mode == "force_custom_plan")
        #expect(try await conn.run { try $0.query("SHOW jit")[0].decode(String.self, at: 0) } == "off", "no JIT for koki's statements")
    }

    /// PostgreSQL's own per-row statements (a foreign key's check, a function's queries) keep
    /// their plans inside `withCachedPlans`, for that stretch of the transaction only.
    @Test func cachedPlansForAStretchOfATransaction() async throws {
        let conn = try await TestDatabase.connect()
        let modes = try await conn.run { conn in
            try conn.transaction { tx in
                let inside = try tx.withCachedPlans { try tx.query("SHOW plan_cache_mode")[0].decode(String.self, at: 0) }
                return (inside, try tx.query("SHOW plan_cache_mode")[0].decode(String.self, at: 0))
            }
        }
        #expect(modes.0 == "auto" && modes.1 == "force_custom_plan")
        // A stretch that fails ends with its transaction: the session's mode is back.
        await #expect(throws: PostgresError.self) {
            try await conn.run { conn in
                try conn.transaction { tx in try tx.withCachedPlans { try tx.execute("SELECT 1 / 0") } }
            }
        }
        #expect(try await conn.run { try $0.query("SHOW plan_cache_mode")[0].decode(String.self, at: 0) } == "force_custom_plan")
    }

    @Test func aStatementPreparedBeforeAReconnectIsPreparedAgain() async throws {
        let url = try await TestDatabase.fresh()
        let victim = try await PostgresConnection.connect(url)
        let killer = try await PostgresConnection.connect(url)
        #expect(try await victim.run { try $0.query("SELECT \(1)::int")[0].decode(Int.self, at: 0) } == 1)
        let pid = try await victim.run { $0.backendPID }
        try await killer.run { try $0.query("SELECT pg_terminate_backend(\(Int(pid)))") }
        _ = try? await victim.run { try $0.query("SELECT \(2)::int") }
        let value = try await victim.run { conn -> Int in
            try conn.reset()
            return try conn.query("SELECT \(3)::int")[0].decode(Int.self, at: 0)
        }
        #expect(value == 3)
    }

    @Test func aStatementThatFailsToPrepareFailsLikeAnyOtherAndTheSessionGoesOn() async throws {
        let conn = try await TestDatabase.connect()
        let error = await #expect(throws: PostgresError.self) {
            try await conn.run { try $0.query("SELECT * FROM no_such_table WHERE id = \(1)") }
        }
        #expect(error?.sqlState == "42P01")
        try await conn.run { try $0.executeScript(unsafeSQL: "CREATE TABLE no_such_table (id int)") }
        let rows = try await conn.run { try $0.query("SELECT * FROM no_such_table WHERE id = \(1)") }
        #expect(rows.isEmpty)
    }

    @Test func aTableChangedAfterPreparingIsSeen() async throws {
        let conn = try await TestDatabase.connect()
        try await conn.run { try $0.executeScript(unsafeSQL: "CREATE TABLE t (id int PRIMARY KEY, v text)") }
        try await conn.run { try $0.execute("INSERT INTO t VALUES (\(1), \("a"))") }
        try await conn.run { try $0.executeScript(unsafeSQL: "ALTER TABLE t ADD COLUMN w int DEFAULT 7; CREATE INDEX t_v ON t (v)") }
        try await conn.run { try $0.execute("INSERT INTO t VALUES (\(2), \("b"))") }
        let w = try await conn.run { try $0.query("SELECT id, v, w FROM t WHERE id = \(2)")[0].decode(Int.self, at: 2) }
        #expect(w == 7)
    }
}
