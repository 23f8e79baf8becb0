import Foundation
import Kafka
import KokiBase
import Postgres
import Testing

/// 開示請求 and 利用停止 end to end: a stop holds the transfers no statute requires and lets the
/// required ones go; a disclosure lists every transfer about the person and nothing about anyone else.
extension ResidentWorkerTests {
    @Test func usageStopAndDisclosure() async throws {
        let stack = try await ResidentStack()
        defer { stack.stopAll() }
        try stack.start()
        try await stack.send([factory.businessDay(d("2026-04-01"))])
        try await stack.waitApplied(1)
        let a = "0000000401", b = "0000000402", c = "0000000403"
        try await stack.send([
            person(a, household: "0000000490", born: "1945-01-01", .corrected, on: "2026-03-31"),
            person(b, household: "0000000490", born: "1946-02-02", .corrected, on: "2026-03-31", relationship: .spouse,
                   myNumber: Self.validNumber("27182818284")),
            person(c, household: "0000000491", born: "1944-03-03", .corrected, on: "2026-03-31", myNumber: Self.validNumber("16180339887")),
            factory.event(topic: "department.enrollments.v1", type: "department.enrolled", id: "enrol-a", atenaNo: a,
                          fields: ["department": "disability-welfare", "program": "重度心身障害者医療費助成", "effectiveDate": "2026-04-01"]),
        ])
        try await stack.waitApplied(5)
        try await stack.send([factory.businessDay(d("2026-04-02"))])  // the household's 住基情報, both alive
        try await stack.waitApplied(6)
        _ = try await stack.publishedTransfers()
        let env = ["KOKI_DATABASE_URL": stack.databaseURL, "USER": "counter-1"]

        // 利用停止: recorded, then A dies — the insurer must hear (statute), the department must not.
        let (stopped, stopOutput) = try await runCommand("koki", ["usage-stop", a, "--reference", "U-1", "--received-on", "2026-04-05"],
                                                         environment: env)
        #expect(stopped == 0 && stopOutput.contains("usage stop recorded"), "\(stopOutput)")
        let (again, againOutput) = try await runCommand("koki", ["usage-stop", a], environment: env)
        #expect(again == 0 && againOutput.contains("already in force"))
        try await stack.send([person(a, household: "0000000490", born: "1945-01-01", .died, on: "2026-04-10", death: "2026-04-10")])
        try await stack.waitApplied(7)
        try await stack.send([factory.businessDay(d("2026-04-13"))])
        try await stack.waitApplied(8)
        try await stack.waitFor("the department's transfer held", """
            SELECT count(*) FROM outbox WHERE topic = 'transfer.disability-welfare.v1' AND held_at IS NOT NULL
              AND held_reason LIKE '%usage stop%'
            """)
        try await stack.waitFor("the insurer's qualification-lost published", """
            SELECT count(*) FROM audit_log WHERE destination = 'koiki' AND event_type = 'koiki.qualification-lost' AND atena_no = \(a)
            """)
        #expect(try await stack.count("""
            SELECT count(*) FROM audit_log WHERE destination = 'disability-welfare' AND event_type = 'qualification.lost'
            """) == 0, "nothing not required by statute went out after the stop")

        // 開示請求.
        let (status, output) = try await runCommand("koki", ["disclose", a, "--json", "--reference", "D-1"], environment: env)
        #expect(status == 0, "\(output.suffix(2000))")
        let json = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
        let transfers = json?["transfers"] as? [[String: Any]] ?? []
        let expected = try await stack.strings("""
            SELECT event_id FROM audit_log WHERE atena_no = \(a) OR subjects @> ARRAY[\(a)]::text[] ORDER BY seq
            """)
        #expect(transfers.map { $0["eventID"] as? String ?? "" } == expected, "every transfer about the person, in order")
        #expect(Set(transfers.compactMap { $0["eventType"] as? String }).isSuperset(of: ["koiki.resident-record", "koiki.qualification-lost"]))
        #expect(Set(transfers.compactMap { $0["destination"] as? String }) == ["koiki", "disability-welfare"])
        // The household's 住基情報 was about B too; the disclosure says so without naming B.
        #expect(try await stack.count("SELECT count(*) FROM audit_log WHERE subjects @> ARRAY[\(b)]::text[] AND subjects @> ARRAY[\(a)]::text[]") > 0)
        #expect(!output.contains(b) && !output.contains(c), "nothing about anyone else")
        #expect(!output.contains("27182818284") && !output.contains("16180339887"))
        let records = json?["records"] as? [String: Any] ?? [:]
        #expect(Set(records.keys).isSuperset(of: ["residents", "resident_history", "household_memberships", "qualification_periods",
                                                  "department_enrollments"]), "\(records.keys.sorted())")
        let resident = (records["residents"] as? [[String: Any]])?.first
        #expect(resident?["my_number"] as? String == "********9018" && resident?["my_number_sealed"] == nil)
        #expect((records["resident_history"] as? [Any])?.count == 2, "with history")
        let requests = json?["requests"] as? [[String: Any]] ?? []
        #expect(requests.map { $0["kind"] as? String ?? "" } == ["usage-stop", "disclosure"], "the request itself is recorded")
        #expect(requests.last?["reference"] as? String == "D-1" && requests.last?["recordedBy"] as? String == "counter-1")

        // M5: the disclosure shows who looked at the person's data — here, the disclosure itself.
        let reads = json?["reads"] as? [[String: Any]] ?? []
        #expect(reads.contains { $0["command"] as? String == "disclose" && ($0["purpose"] as? String ?? "").contains("D-1") }, "\(reads)")
        // M9: what is held back about the person is disclosed too (the stopped transfer).
        let pending = records["outbox"] as? [[String: Any]] ?? []
        #expect(pending.contains { ($0["held_reason"] as? String ?? "").contains("usage stop") }, "\(pending)")
        // The dossier files are the officer's alone.
        let out = NSTemporaryDirectory() + "disclose-\(UUID().uuidString)"
        let (wrote, wroteOutput) = try await runCommand("koki", ["disclose", a, "--out", out, "--reference", "D-2"], environment: env)
        #expect(wrote == 0, "\(wroteOutput)")
        for file in try FileManager.default.contentsOfDirectory(atPath: out) {
            let mode = try FileManager.default.attributesOfItem(atPath: out + "/" + file)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(file)")
        }

        let (_, report) = try await runCommand("koki", ["disclose", a], environment: env)
        #expect(report.contains("提供の記録") && report.contains("障害福祉課") && report.contains("埼玉県後期高齢者医療広域連合"))
        #expect(!report.contains(b))

        let (lifted, liftOutput) = try await runCommand("koki", ["usage-stop", a, "--lift"], environment: env)
        #expect(lifted == 0 && liftOutput.contains("lifted"))
        #expect(try await stack.count("SELECT count(*) FROM usage_stops") == 0)
        let (missing, missingOutput) = try await runCommand("koki", ["disclose", "0000009999"], environment: env)
        #expect(missing != 0 && missingOutput.contains("no person"))
        let (verified, verifyOutput) = try await runCommand("koki", ["audit", "verify"], environment: env)
        #expect(verified == 0, "\(verifyOutput)")
    }
}

extension ResidentWorkerTests {
    /// 生活福祉課's basis covers foreign residents on livelihood protection only: a transfer about
    /// anyone else is held, even when the department enrolled them.
    @Test func welfareLivelihoodHearsOnlyAboutForeignResidents() async throws {
        let stack = try await ResidentStack()
        defer { stack.stopAll() }
        try stack.start()
        try await stack.send([factory.businessDay(d("2026-04-01"))])
        try await stack.waitApplied(1)
        let foreign = "0000000501", national = "0000000502"
        func enrol(_ atenaNo: String) -> OutgoingMessage {
            factory.event(topic: "department.enrollments.v1", type: "department.enrolled", id: "enrol-\(atenaNo)", atenaNo: atenaNo,
                          fields: ["department": "welfare-livelihood", "program": "生活保護", "effectiveDate": "2026-04-01"])
        }
        try await stack.send([
            person(foreign, household: "0000000590", born: "1945-01-01", .corrected, on: "2026-03-31", status: .foreignResident),
            person(national, household: "0000000591", born: "1945-02-02", .corrected, on: "2026-03-31",
                   myNumber: Self.validNumber("16180339887")),
            enrol(foreign), enrol(national),
        ])
        try await stack.waitApplied(5)
        try await stack.waitFor("the transfer about the national held", """
            SELECT count(*) FROM outbox WHERE topic = 'transfer.welfare-livelihood.v1' AND message_key = \(national)
              AND held_reason LIKE '%only foreign residents%'
            """)
        try await stack.waitFor("the transfer about the foreign resident published", """
            SELECT count(*) FROM audit_log WHERE destination = 'welfare-livelihood' AND atena_no = \(foreign)
            """)
        #expect(try await stack.count("""
            SELECT count(*) FROM audit_log WHERE destination = 'welfare-livelihood' AND atena_no = \(national)
            """) == 0)
    }
}
