import Foundation
import Postgres
import Testing
@testable import KokiStore

/// A batch's keys on a column that is not unique are looked up key by key, so the plan does not
/// hang on statistics a new city's tables lack (a table no ANALYZE has seen yet).
@Suite("Keyed lookups")
struct KeyedLookupTests {
    @Test func theIndexIsUsedWithoutStatisticsAndDeleteTakesExactlyTheKeyedRows() async throws {
        let conn = try await PostgresConnection.connect(try await MigratedDatabase.create())
        try await conn.run { conn in
            try conn.executeScript(unsafeSQL: """
                ALTER TABLE household_memberships SET (autovacuum_enabled = false);
                INSERT INTO household_memberships (atena_no, household_no, relationship_to_head, from_date)
                SELECT lpad(n::text, 10, '0'), lpad((n / 2)::text, 10, '0'), 'head', DATE '2020-04-01' + (n % 3)
                FROM generate_series(1, 20000) AS n;
                """)
            let keys = (1...400).map { String(format: "%010d", $0 * 37) }
            func plan(_ sql: SQL) throws -> String {
                try conn.query("EXPLAIN \(sql)").map { try $0.decode(String.self, at: 0) }.joined(separator: "\n")
            }
            // The premise: without statistics, the plain form reads the whole table.
            #expect(try plan("SELECT * FROM household_memberships WHERE atena_no = ANY(\(keys)::text[])")
                .contains("Seq Scan on household_memberships"))
            let keyed = try plan("""
                SELECT m.* FROM \(KeyedLookup.rows(of: "household_memberships", where: "atena_no", in: keys, as: "m"))
                """)
            #expect(!keyed.contains("Seq Scan") && keyed.contains("Nested Loop"), "key by key: \(keyed)")
            #expect(try conn.count("""
                SELECT count(*) FROM \(KeyedLookup.rows(of: "household_memberships", where: "atena_no", in: keys, as: "m"))
                """) == 400)

            try KeyedLookup.delete(from: "household_memberships", where: "atena_no", in: keys, on: conn)
            #expect(try conn.count("SELECT count(*) FROM household_memberships") == 19_600)
            #expect(try conn.count("SELECT count(*) FROM household_memberships WHERE atena_no = ANY(\(keys)::text[])") == 0)
        }
    }
}
