import Foundation
import KokiBase
import Postgres
import Testing

@Suite("PostgreSQL parameters and decoding")
struct RoundTripTests {
    @Test("Japanese text, NULLs and edge integers round-trip as parameters",
          arguments: ["川口 花子", "カワグチ ハナコ", "埼玉県川口市本町4-1-1", "", "quote ' \" back\\slash\ttab\nnewline", "𠮷野家 🍣"])
    func textRoundTrips(text: String) async throws {
        let conn = try await TestDatabase.connect()
        let back = try await conn.run { conn in
            try conn.query("SELECT \(text)::text, \(Optional<String>.none)::text")[0]
                .decode(String.self, String?.self)
        }
        #expect(back.0 == text)
        #expect(back.1 == nil)
    }

    @Test func integersAtTheirEdges() async throws {
        let conn = try await TestDatabase.connect()
        let values: [Int64] = [.min, -1, 0, 1, .max, Int64(Int32.max) + 1]
        for value in values {
            let back = try await conn.run { try $0.query("SELECT \(value)::bigint")[0].decode(Int64.self, at: 0) }
            #expect(back == value)
        }
        let small = try await conn.run { conn in
            try conn.query("SELECT \(Int32.min)::int, \(Int16.max)::smallint, \(Int.max)::bigint")[0]
                .decode(Int32.self, Int16.self, Int.self)
        }
        #expect(small.0 == .min && small.1 == .max && small.2 == .max)
    }

    @Test func datesTimestampsBytesJSONAndBooleans() async throws {
        let conn = try await TestDatabase.connect()
        let day = LocalDate(year: 2024, month: 2, day: 29)!
        let instant = Date(timeIntervalSince1970: 1_795_870_526.123456)
        let bytes = Data([0, 1, 0x7f, 0x80, 0xff])
        let json = try PostgresJSON(encoding: ["氏名": "川口 花子"])
        let row = try await conn.run { conn in
            try conn.query("SELECT \(day)::date, \(instant)::timestamptz, \(bytes)::bytea, \(json)::jsonb, \(true), \(false)")[0]
        }
        #expect(try row.decode(LocalDate.self, at: 0) == day)
        let backInstant = try row.decode(Date.self, at: 1)
        #expect(abs(backInstant.timeIntervalSince1970 - instant.timeIntervalSince1970) < 0.000002)
        #expect(try row.decode(Data.self, at: 2) == bytes)
        #expect(try row.decode(PostgresJSON.self, at: 3).decode([String: String].self) == ["氏名": "川口 花子"])
        #expect(try row.decode(Bool.self, at: 4) == true)
        #expect(try row.decode(Bool.self, at: 5) == false)
    }

    @Test func arraysFeedUnnestAndDecode() async throws {
        let conn = try await TestDatabase.connect()
        let names: [String?] = ["川口", nil, "a,b", "\"q\"", "NULL", "{x}"]
        let ids = Array(1...names.count)
        let rows = try await conn.run { conn in
            try conn.query("SELECT id, name FROM unnest(\(ids)::int[], \(names)::text[]) AS u(id, name) ORDER BY id")
        }
        #expect(try rows.map { try $0.decode(String?.self, column: "name") } == names)
        let back = try await conn.run { try $0.query("SELECT \(names)::text[]")[0].decode([String?].self, at: 0) }
        #expect(back == names)
    }

    @Test func nullIntoANonOptionalIsADecodeErrorNamingTheColumn() async throws {
        let conn = try await TestDatabase.connect()
        let error = await #expect(throws: PostgresError.self) {
            try await conn.run { try $0.query("SELECT NULL::int AS amount")[0].decode(Int.self, at: 0) }
        }
        #expect(error?.kind == .decode)
        #expect(error?.description.contains("amount") == true)
    }

    @Test func interpolatedFragmentsAreRenumbered() async throws {
        let conn = try await TestDatabase.connect()
        let filter: SQL = "x > \(1)::int AND x < \(10)::int"
        let rows = try await conn.run { conn in
            try conn.query("SELECT x FROM generate_series(\(0)::int, \(20)::int) AS x WHERE \(filter) AND x <> \(5)::int ORDER BY x")
        }
        #expect(try rows.map { try $0.decode(Int.self, at: 0) } == [2, 3, 4, 6, 7, 8, 9])
    }
}
