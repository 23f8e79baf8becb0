import Foundation
import KokiBase
import KokiDomain
import KokiEvents
import KokiSecrets
import Postgres
import Testing

/// 個人番号 at rest: sealed by the resident worker, opened by the relay only for the insurer,
/// found by keyed hash, shown masked; plaintext values of an older store sealed by `koki migrate`;
/// `koki keys rotate` moves every value to the newest key.
extension ResidentWorkerTests {
    static func validNumber(_ body: String) -> String { body + String(MyNumber.checkDigit(body.utf8.map { Int($0 - 48) })) }

    @Test func myNumbersAreSealedAtRestAndOpenedOnlyForTheInsurer() async throws {
        let stack = try await ResidentStack()
        defer { stack.stopAll() }
        try stack.start()
        try await stack.send([factory.businessDay(d("2026-04-01"))])
        try await stack.waitApplied(1)
        let number = Self.validNumber("31415926535")
        let a = "0000000201", h = "0000000301"
        try await stack.send([
            person(a, household: h, born: "1945-01-01", .corrected, on: "2026-03-31", myNumber: number),
            person("0000000202", household: h, born: "1946-02-02", .corrected, on: "2026-03-31", relationship: .spouse,
                   myNumber: Self.validNumber("27182818284")),
            factory.event(topic: "department.enrollments.v1", type: "department.enrolled", id: "enrol-a", atenaNo: a,
                          fields: ["department": "disability-welfare", "program": "重度心身障害者医療費助成",
                                   "effectiveDate": "2026-04-01"]),
        ])
        try await stack.waitApplied(4)
        try await stack.send([factory.businessDay(d("2026-04-02"))])  // 住基情報 goes on the business day
        try await stack.waitApplied(5)
        let transfers = try await stack.publishedTransfers()

        // At rest: nowhere in the store in plaintext — not in 宛名, not in the outbox.
        #expect(try await stack.count("SELECT count(*) FROM residents WHERE residents::text LIKE \("%" + number + "%")") == 0)
        #expect(try await stack.count("SELECT count(*) FROM outbox WHERE convert_from(payload, 'UTF8') LIKE \("%" + number + "%")") == 0)
        let sealed = try await stack.strings("SELECT my_number_sealed FROM residents WHERE atena_no = \(a)")
        #expect(sealed.count == 1 && sealed[0].hasPrefix("v1:k-test:"))
        #expect(try TestKeys.vault.open(sealed[0]) == number)

        // In transit: the insurer's 住基情報 carries the digits; the department never sees a 個人番号.
        let record = transfers.first { $0.type == "koiki.resident-record" && $0.body.contains(a) }
        #expect(record?.body.contains("\"myNumber\":\"\(number)\"") == true, "\(record?.body ?? "no 住基情報")")
        let department = transfers.filter { $0.topic == "transfer.disability-welfare.v1" }
        #expect(!department.isEmpty && department.allSatisfy { !$0.body.contains("myNumber") && !$0.body.contains(number) })
        #expect(transfers.allSatisfy { !$0.body.contains("v1:k-test:") }, "no sealed value leaves koki")

        // The counter: found by 個人番号 through the keyed hash (read from stdin), shown masked.
        let env = ["KOKI_DATABASE_URL": stack.databaseURL]
        let (found, output) = try await runCommand("koki", ["person", "--by-my-number", "--json", "--purpose", "T-1"], environment: env, stdin: number + "\n")
        #expect(found == 0, "\(output)")
        let json = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
        #expect(json?["atenaNo"] as? String == a && json?["myNumber"] as? String == "********" + number.suffix(4))
        let (none, message) = try await runCommand("koki", ["person", "--by-my-number", "--purpose", "T-1"], environment: env,
                                                   stdin: Self.validNumber("11111111111") + "\n")
        #expect(none != 0 && message.contains("no person with that 個人番号"), "\(message)")
        // Without the keyring the inquiry still works and says the number is sealed.
        let (plain, shown) = try await runCommand("koki", ["person", a, "--purpose", "T-1"], environment: env.merging(["KOKI_MYNUMBER_KEYS": ""]) { $1 })
        #expect(plain == 0 && shown.contains("暗号化・鍵 k-test") && !shown.contains(number.suffix(4)), "\(shown)")
    }
}

@Suite("個人番号 conversion and rotation", .serialized)
struct MyNumberMigrationTests {
    static let migrations = Env.repoRoot.appendingPathComponent("migrations")

    /// A database migrated up to 0007 (plaintext 個人番号) holding two numbers.
    func olderStore() async throws -> String {
        let server = try Env.require("KOKI_TEST_DATABASE_URL")
        let name = "mn_\(UInt64.random(in: 0...UInt64.max))"
        let admin = try await PostgresConnection.connect(server)
        try await admin.run { try $0.executeScript(unsafeSQL: "CREATE DATABASE \(name)") }
        let url = String(server[...server.lastIndex(of: "/")!]) + name
        let all = try Migrator(directory: Self.migrations)
        let upTo7 = try Migrator(migrations: all.migrations.filter { $0.version <= 7 })
        let conn = try await PostgresConnection.connect(url)
        try await conn.run { conn in
            try upTo7.apply(on: conn)
            try conn.execute("""
                INSERT INTO residents (atena_no, my_number) VALUES
                    ('0000000001', \(ResidentWorkerTests.validNumber("31415926535"))),
                    ('0000000002', \(ResidentWorkerTests.validNumber("27182818284"))), ('0000000003', NULL)
                """)
        }
        return url
    }

    @Test func migrateSealsThePlaintextValuesAndDropsTheColumn() async throws {
        let url = try await olderStore()
        let env = ["KOKI_DATABASE_URL": url, "KOKI_MIGRATIONS_DIR": Self.migrations.path]
        let (refused, message) = try await runCommand("koki", ["migrate"], environment: env.merging(["KOKI_MYNUMBER_KEYS": ""]) { $1 })
        #expect(refused != 0 && message.contains("2 residents hold a plaintext 個人番号") && message.contains("KOKI_MYNUMBER_KEYS_FILE"),
                "\(message)")
        #expect(!message.contains("31415926535"))

        let (status, output) = try await runCommand("koki", ["migrate"], environment: env)
        #expect(status == 0, "\(output)")
        let conn = try await PostgresConnection.connect(url)
        let rows = try await conn.run { try $0.query("SELECT atena_no, my_number_sealed, my_number_hash FROM residents ORDER BY 1") }
        #expect(try rows[0].decode(String?.self, at: 1).map(TestKeys.vault.open) == ResidentWorkerTests.validNumber("31415926535"))
        #expect(try rows[1].decode(String?.self, at: 1).map(TestKeys.vault.open) == ResidentWorkerTests.validNumber("27182818284"))
        #expect(try rows[1].decode(Data?.self, at: 2) == TestKeys.vault.lookupHash(ResidentWorkerTests.validNumber("27182818284")))
        #expect(try rows[2].decode(String?.self, at: 1) == nil)
        let plaintext = try await conn.run {
            try $0.query("SELECT count(*) FROM information_schema.columns WHERE table_name = 'residents' AND column_name = 'my_number'")
        }
        #expect(try plaintext[0].decode(Int.self, at: 0) == 0, "the plaintext column is gone")
    }

    @Test func rotationReSealsUnderTheNewestKey() async throws {
        let url = try await olderStore()
        let env = ["KOKI_DATABASE_URL": url, "KOKI_MIGRATIONS_DIR": Self.migrations.path]
        #expect(try await runCommand("koki", ["migrate"], environment: env).0 == 0)

        let newKey = "k-next TjGvS3zZ2VxqZ8cK0e6b0o1XcS1fDq3nY8aHqWc2mAs="
        let parts = TestKeys.keyring.split(separator: ";").map(String.init)
        let (oldKey, lookup) = (parts[0], parts[1])
        let rotated = [newKey, oldKey, lookup].joined(separator: "\n")
        let (status, output) = try await runCommand("koki", ["keys", "rotate", "--batch", "1"], environment: env.merging(["KOKI_MYNUMBER_KEYS": rotated]) { $1 })
        #expect(status == 0 && output.contains("2 個人番号 re-sealed under key 'k-next'"), "\(output)")
        let conn = try await PostgresConnection.connect(url)
        let keys = try await conn.run { try $0.query("SELECT DISTINCT my_number_key_id FROM residents WHERE my_number_key_id IS NOT NULL") }
        #expect(try keys.map { try $0.decode(String.self, at: 0) } == ["k-next"])
        // The old key can now be retired: the inquiry opens every value with the new one alone.
        let retired = [newKey, lookup].joined(separator: ";")
        let (shown, person) = try await runCommand("koki", ["person", "0000000002", "--json", "--purpose", "T-1"],
                                                   environment: env.merging(["KOKI_MYNUMBER_KEYS": retired]) { $1 })
        #expect(shown == 0 && person.contains("\"myNumber\" : \"********" + ResidentWorkerTests.validNumber("27182818284").suffix(4)),
                "\(person)")
        // A keyring missing the key some values are under leaves them and says so (exit 1).
        let (partial, report) = try await runCommand("koki", ["keys", "rotate"], environment: env.merging(["KOKI_MYNUMBER_KEYS": [oldKey, lookup].joined(separator: ";")]) { $1 })
        #expect(partial != 0 && report.contains("0 個人番号 re-sealed") && report.contains("2 still under other keys"), "\(report)")
    }
}
