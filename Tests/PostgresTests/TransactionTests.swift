import Foundation
import Postgres
import Testing

@Suite("PostgreSQL transactions, COPY and errors")
struct TransactionTests {
    struct Boom: Error {}

    @Test func aThrownErrorRollsTheTransactionBack() async throws {
        let conn = try await TestDatabase.connect()
        try await conn.run { conn in
            try conn.executeScript(unsafeSQL: "CREATE TABLE t (id int PRIMARY KEY)")
            #expect(throws: Boom.self) {
                try conn.transaction { tx in
                    try tx.execute("INSERT INTO t VALUES (\(1))")
                    throw Boom()
                }
            }
            try conn.transaction { tx in try tx.execute("INSERT INTO t VALUES (\(2))") }
        }
        let ids = try await conn.run { try $0.query("SELECT id FROM t").map { try $0.decode(Int.self, at: 0) } }
        #expect(ids == [2])
    }

    @Test func aSavepointUndoesOnlyItsOwnWork() async throws {
        let conn = try await TestDatabase.connect()
        let ids = try await conn.run { conn -> [Int] in
            try conn.executeScript(unsafeSQL: "CREATE TABLE t (id int PRIMARY KEY)")
            try conn.transaction { tx in
                try tx.execute("INSERT INTO t VALUES (\(1))")
                // A unique violation inside the savepoint must not poison the transaction.
                #expect(throws: PostgresError.self) {
                    try tx.savepoint { sp in try sp.execute("INSERT INTO t VALUES (\(1))") }
                }
                try tx.execute("INSERT INTO t VALUES (\(3))")
            }
            return try conn.query("SELECT id FROM t ORDER BY id").map { try $0.decode(Int.self, at: 0) }
        }
        #expect(ids == [1, 3])
    }

    @Test func copyLoadsOneHundredThousandRows() async throws {
        let conn = try await TestDatabase.connect()
        let (loaded, summary) = try await conn.run { conn -> (Int, [Int]) in
            try conn.executeScript(unsafeSQL: "CREATE TABLE r (id bigint PRIMARY KEY, name text, amount int, note text)")
            let loaded = try conn.copyIn(table: "r", columns: ["id", "name", "amount", "note"],
                                         rows: (0..<100_000).lazy.map { i -> [any PostgresEncodable] in
                                             [i, "川口\t\(i)\\", i % 1000, i % 7 == 0 ? Optional<String>.none : "n\n\(i)"]
                                         })
            let row = try conn.query("""
                SELECT count(*), sum(amount), count(note),
                       count(*) FILTER (WHERE name = '川口' || E'\\t' || id::text || E'\\\\')
                FROM r
                """)[0]
            return (loaded, try [row.decode(Int.self, at: 0), row.decode(Int.self, at: 1),
                                 row.decode(Int.self, at: 2), row.decode(Int.self, at: 3)])
        }
        #expect(loaded == 100_000)
        #expect(summary == [100_000, 49_950_000, 100_000 - 14_286, 100_000])
    }

    @Test func aFailedCopyLoadsNothingAndSaysWhy() async throws {
        let conn = try await TestDatabase.connect()
        let count = try await conn.run { conn -> Int in
            try conn.executeScript(unsafeSQL: "CREATE TABLE r (id int PRIMARY KEY)")
            let error = #expect(throws: PostgresError.self) {
                try conn.copyIn(table: "r", columns: ["id"], rows: [[1], [2], [1]] as [[any PostgresEncodable]])
            }
            #expect(error?.sqlState == "23505")
            return try conn.query("SELECT count(*) FROM r")[0].decode(Int.self, at: 0)
        }
        #expect(count == 0)
    }

    @Test func aUniqueViolationIsPermanentAndItsDescriptionHasNoValues() async throws {
        let conn = try await TestDatabase.connect()
        let secret = "123456789018"
        let error = await #expect(throws: PostgresError.self) {
            try await conn.run { conn in
                try conn.executeScript(unsafeSQL: "CREATE TABLE p (my_number text CONSTRAINT p_my_number_key UNIQUE)")
                try conn.execute("INSERT INTO p VALUES (\(secret))")
                try conn.execute("INSERT INTO p VALUES (\(secret))")
            }
        }
        #expect(error?.sqlState == "23505")
        #expect(error?.constraint == "p_my_number_key")
        #expect(error?.isTransient == false)
        #expect(error?.description.contains(secret) == false)
        #expect(error?.description.contains("unique_violation") == true)
    }

    @Test func aBadValueDoesNotLeakIntoTheDescription() async throws {
        let conn = try await TestDatabase.connect()
        let secret = "川口 花子"
        let error = await #expect(throws: PostgresError.self) {
            try await conn.run { try $0.query("SELECT \(secret)::int") }
        }
        #expect(error?.sqlState == "22P02")
        #expect(error?.isPermanent == true)
        #expect(error?.description.contains(secret) == false)
    }

    @Test func aTerminatedBackendIsTransientAndResetRecovers() async throws {
        let url = try await TestDatabase.fresh()
        let victim = try await PostgresConnection.connect(url)
        let killer = try await PostgresConnection.connect(url)
        let pid = try await victim.run { $0.backendPID }
        try await killer.run { try $0.query("SELECT pg_terminate_backend(\(Int(pid)))") }
        let error = await #expect(throws: PostgresError.self) {
            try await victim.run { try $0.query("SELECT 1") }
        }
        #expect(error?.isTransient == true)
        let value = try await victim.run { conn -> Int in
            try conn.reset()
            return try conn.query("SELECT 41 + 1")[0].decode(Int.self, at: 0)
        }
        #expect(value == 42)
    }

    @Test("SQLSTATE classes", arguments: [
        ("40001", true), ("40P01", true), ("57P01", true), ("57P03", true), ("53300", true), ("08006", true),
        ("23505", false), ("23503", false), ("22P02", false), ("42601", false), ("42501", false),
    ])
    func classification(sqlState: String, transient: Bool) {
        #expect(PostgresError.isTransient(sqlState: sqlState) == transient)
    }

    @Test func aDeadlockIsTransient() async throws {
        let url = try await TestDatabase.fresh()
        let a = try await PostgresConnection.connect(url)
        let b = try await PostgresConnection.connect(url)
        try await a.run { try $0.executeScript(unsafeSQL: "CREATE TABLE d (id int PRIMARY KEY, v int); INSERT INTO d VALUES (1, 0), (2, 0)") }
        // a locks 1 then 2; b locks 2 then 1: the server aborts one with 40P01.
        try await a.run { try $0.executeScript(unsafeSQL: "BEGIN; UPDATE d SET v = 1 WHERE id = 1") }
        try await b.run { try $0.executeScript(unsafeSQL: "BEGIN; UPDATE d SET v = 2 WHERE id = 2") }
        async let first: Result<Void, Error> = Result { try await a.run { try $0.executeScript(unsafeSQL: "UPDATE d SET v = 1 WHERE id = 2") } }
        try await Task.sleep(for: .milliseconds(200))
        let second: Result<Void, Error> = await Result { try await b.run { try $0.executeScript(unsafeSQL: "UPDATE d SET v = 2 WHERE id = 1") } }
        let results = [await first, second]
        let failures = results.compactMap { result -> PostgresError? in
            if case .failure(let error) = result { return error as? PostgresError }
            return nil
        }
        #expect(failures.count == 1)
        #expect(failures.first?.sqlState == "40P01")
        #expect(failures.first?.isTransient == true)
    }
}

extension Result where Failure == Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
