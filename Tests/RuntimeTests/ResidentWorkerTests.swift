import Foundation
import Kafka
import KokiBase
import KokiEvents
import KokiSynth
import Postgres
import Testing

/// koki-resident-worker end to end: events through the mock cluster into PostgreSQL, the
/// relay publishing the transfers, and `koki person` reading the result.
@Suite("Resident worker, end to end", .serialized)
struct ResidentWorkerTests {
    let factory = EventFactory(source: "urn:test:juki")
    static let kawaguchi = ResidentChange.Address(postalCode: "3320012", cityCode: "112038", prefecture: "埼玉県",
                                                  line: "川口市本町9-9-9", katagaki: nil)
    static let tokyo = ResidentChange.Address(postalCode: "1500001", cityCode: "131130", prefecture: "東京都",
                                              line: "渋谷区神宮前9-9-9", katagaki: nil)
    static let saitamaCity = ResidentChange.Address(postalCode: "3300063", cityCode: "111007", prefecture: "埼玉県",
                                                    line: "さいたま市浦和区9-9", katagaki: nil)

    func person(_ atenaNo: String, household: String, born: String, _ kind: ResidentChange.Kind, on day: String,
                relationship: ResidentChange.Relationship = .head, previous: ResidentChange.Address? = nil,
                next: ResidentChange.Address? = nil, death: String? = nil, myNumber: String? = "123456789018",
                status: ResidentChange.ResidentStatus = .resident, id: String? = nil) -> OutgoingMessage {
        let change = ResidentChange(
            atenaNo: atenaNo, myNumber: myNumber, householdNo: household,
            change: .init(effectiveDate: d(day), notifiedDate: d(day)),
            person: .init(nameKanji: "試験 太郎", nameKana: "シケン タロウ", sex: .male, birthDate: d(born),
                          relationshipToHead: relationship, residentStatus: status, address: Self.kawaguchi,
                          previousAddress: previous, nextAddress: next, deathDate: death.map(d)))
        return factory.resident(kind, change, id: id ?? "\(kind.rawValue):\(atenaNo):\(day)")
    }

    func d(_ text: String) -> LocalDate { LocalDate(iso: text)! }

    @Test func qualificationFollowsTheRegisterAndTheClock() async throws {
        let stack = try await ResidentStack()
        defer { stack.stopAll() }
        try stack.start()

        try await stack.send([factory.businessDay(d("2026-04-01"))])
        try await stack.waitApplied(1)

        let a = "0000000001", b = "0000000002", s = "0000000003", c = "0000000004", dd = "0000000005"
        let e1 = "0000000006", e2 = "0000000007", f1 = "0000000008", f2 = "0000000009", i = "0000000011", u = "0000000012"
        let g = "0000000013", n = "0000000014"
        let arrival = person(a, household: "0000000101", born: "1951-05-20", .movedIn, on: "2026-04-01", previous: Self.tokyo)
        try await stack.send([
            arrival,
            person(b, household: "0000000102", born: "1950-03-03", .movedIn, on: "2026-04-01", previous: Self.tokyo),
            person(s, household: "0000000103", born: "1950-06-06", .movedIn, on: "2026-04-01", previous: Self.saitamaCity),
            person(c, household: "0000000104", born: "1946-01-01", .corrected, on: "2026-03-31"),
            person(dd, household: "0000000105", born: "1948-02-02", .corrected, on: "2026-03-31"),
            person(e1, household: "0000000106", born: "1966-01-01", .corrected, on: "2026-03-31"),
            person(e2, household: "0000000106", born: "1944-04-04", .corrected, on: "2026-03-31", relationship: .spouse),
            person(f1, household: "0000000108", born: "1945-05-05", .corrected, on: "2026-03-31"),
            person(f2, household: "0000000109", born: "1945-05-06", .corrected, on: "2026-03-31"),
            person(i, household: "0000000111", born: "1940-10-10", .corrected, on: "2026-03-31"),
            person(u, household: "0000000112", born: "1951-06-15", .corrected, on: "2026-03-31"),
            person(g, household: "0000000113", born: "1956-02-10", .corrected, on: "2026-03-31"),
            arrival,  // delivered twice: applied once
            person("0000000010", household: "0000000110", born: "1945-01-01", .corrected, on: "2026-03-31",
                   myNumber: "123456789012"),
            factory.message(topic: "resident.changes.v1", type: "resident.teleported", id: "bad-type", key: "0000000010",
                            body: ["atenaNo": "0000000010"]),
            factory.event(topic: "department.enrollments.v1", type: "department.enrolled", id: "enrol-f1", atenaNo: f1,
                          fields: ["department": "disability-welfare", "program": "重度心身障害者医療費助成",
                                   "effectiveDate": "2026-04-01"]),
        ])
        try await stack.waitApplied(14, deadLetters: 2)
        #expect(try await stack.periods(b) == [["2026-04-01", "moved-in", nil, nil]], "76, from Tokyo: the 転入日")
        #expect(try await stack.periods(s) == [["2025-06-06", "age-75", nil, nil]], "from inside Saitama: no new acquisition")
        #expect(try await stack.periods(c) == [["2021-01-01", "age-75", nil, nil]])
        #expect(try await stack.periods(a) == [], "74 on arrival: not yet")
        #expect(try await stack.count("SELECT count(*) FROM resident_history WHERE atena_no = \(a)") == 1)
        let reasons = try await stack.strings("SELECT error_kind || ': ' || reason FROM dead_letters ORDER BY reason")
        #expect(reasons.contains("validation: myNumber fails its check digit"), "\(reasons)")
        #expect(reasons.contains { $0.hasPrefix("unknown-type") }, "\(reasons)")

        let highCost = factory.event(topic: "counter.applications.v1", type: "application.high-cost-medical", id: "app-hc",
                                     atenaNo: a, fields: ["receivedDate": "2026-04-20", "applicationNo": "A-HC",
                                                          "bankAccountRef": "BA-0001"])
        // Later changes, some dated ahead of the business date; then the clock moves.
        try await stack.send([
            person(b, household: "0000000102", born: "1950-03-03", .movedOut, on: "2026-05-10", next: Self.tokyo),
            person(c, household: "0000000104", born: "1946-01-01", .died, on: "2026-05-05", death: "2026-05-05"),
            factory.event(topic: "welfare.public-assistance.v1", type: "welfare.assistance-started", id: "pa-1", atenaNo: dd,
                          fields: ["householdNo": "0000000105", "caseNo": "W-2026-00001", "effectiveDate": "2026-04-15"]),
            factory.event(topic: "welfare.public-assistance.v1", type: "welfare.assistance-ended", id: "pa-2", atenaNo: dd,
                          fields: ["householdNo": "0000000105", "caseNo": "W-2026-00001", "effectiveDate": "2026-05-01"]),
            person(e1, household: "0000000106", born: "1966-01-01", .householdChanged, on: "2026-04-20"),
            person(f1, household: "0000000108", born: "1945-05-05", .died, on: "2026-05-01", death: "2026-05-01"),
            person(f2, household: "0000000109", born: "1945-05-06", .died, on: "2026-05-01", death: "2026-05-01"),
            // A death known before an earlier move-out.
            person(i, household: "0000000111", born: "1940-10-10", .died, on: "2026-06-30", death: "2026-06-30"),
            // 障害認定 at 70; a benefit application; a 住登外 registration.
            factory.event(topic: "counter.applications.v1", type: "application.disability-certification", id: "app-1",
                          atenaNo: g, fields: ["receivedDate": "2026-04-20", "applicationNo": "A-1",
                                               "certifiedDate": "2026-04-20", "grade": "身体障害者手帳1級"]),
            highCost,
            person(n, household: "0000000114", born: "1945-08-08", .nonresidentRegistered, on: "2026-04-10",
                   status: .nonresident),
        ])
        try await stack.waitApplied(25, deadLetters: 2)
        try await stack.send([factory.businessDay(d("2026-05-20"))])
        try await stack.waitApplied(26, deadLetters: 2)
        try await stack.send([person(i, household: "0000000111", born: "1940-10-10", .movedOut, on: "2026-05-20", next: Self.tokyo),
                              factory.event(topic: "counter.applications.v1", type: "application.disability-withdrawal",
                                            id: "app-2", atenaNo: g, fields: ["receivedDate": "2026-06-01", "applicationNo": "A-2",
                                                                              "effectiveDate": "2026-06-01"])])
        try await stack.waitApplied(28, deadLetters: 2)
        try await stack.send([factory.businessDay(d("2026-07-01"))])
        try await stack.waitApplied(29, deadLetters: 2)

        #expect(try await stack.periods(a) == [["2026-05-20", "age-75", nil, nil]], "insured on the 75th birthday")
        // Moved to Tokyo (another union's area) on 5/10: lost that day (高確法 53条).
        #expect(try await stack.periods(b) == [["2026-04-01", "moved-in", "2026-05-10", "moved-out"]])
        #expect(try await stack.periods(c) == [["2021-01-01", "age-75", "2026-05-06", "died"]])
        #expect(try await stack.periods(dd) == [["2023-02-02", "age-75", "2026-04-15", "assistance-started"],
                                                ["2026-05-01", "assistance-ended", nil, nil]])
        #expect(try await stack.periods(i) == [["2015-10-10", "age-75", "2026-05-20", "moved-out"]],
                "effective dates decide, not arrival order")
        #expect(try await stack.periods(g) == [["2026-04-20", "disability-certified", "2026-06-01", "disability-withdrawn"]],
                "障害認定 at 70, then withdrawn")
        #expect(try await stack.periods(n) == [], "住登外 without 住所地特例: not insured here")

        // What the insurer and the departments received.
        let transfers = try await stack.publishedTransfers()
        let insurer = transfers.filter { $0.topic == "transfer.koiki.v1" }
        #expect(insurer.filter { $0.type == "koiki.qualification-acquired" && $0.key == a }.count == 1,
                "one acquisition transfer for the 75th birthday")
        #expect(insurer.contains { $0.type == "koiki.qualification-lost" && $0.key == b })
        #expect(insurer.contains { $0.type == "koiki.qualification-lost" && $0.key == c })
        #expect(insurer.contains { $0.type == "koiki.certificate-issued" && $0.key == a })
        let household = insurer.filter { $0.type == "koiki.resident-record" && $0.body.contains("\"householdNo\":\"0000000106\"") }
        // Registered and changed before the first business day, untouched after it: told once,
        // on that day, as it stood then.
        #expect(household.count == 1 && household[0].body.contains("\"asOf\":\"2026-05-20\""), "住基情報 once a day")
        #expect(household.contains { $0.body.contains("\"atenaNo\":\"\(e1)\"") && $0.body.contains("\"atenaNo\":\"\(e2)\"") },
                "住基情報 carries every member")
        let upcoming = insurer.filter { $0.type == "koiki.age-75-upcoming" && $0.body.contains("\"month\":\"2026-06\"") }
        #expect(upcoming.count == 1 && upcoming[0].body.contains("\"atenaNo\":\"\(u)\""), "年齢到達予定者 for June")
        let forwarded = insurer.filter { $0.type == "application.high-cost-medical" }
        #expect(forwarded.count == 1 && forwarded[0].key == a
                && forwarded[0].body == String(decoding: highCost.value ?? [], as: UTF8.self), "forwarded as received")
        #expect(insurer.contains { $0.type == "koiki.nonresident-record" && $0.key == n })
        let disability = transfers.filter { $0.topic == "transfer.disability-welfare.v1" }
        #expect(Set(disability.map(\.key)) == [f1], "the department hears only about its enrolled person")
        // Enrolled before or after the register's record arrived (another topic): either the
        // snapshot at enrolment or the acquisition itself; the death in any case.
        let types = Set(disability.map(\.type))
        #expect(types.contains("qualification.lost") && types.isSubset(of: ["qualification.current", "qualification.acquired",
                                                                             "qualification.lost"]), "\(types)")
        #expect(transfers.allSatisfy { $0.topic == "transfer.koiki.v1" || $0.topic == "transfer.disability-welfare.v1" })

        // The counter inquiry.
        let (status, output) = try await runCommand("koki", ["person", a, "--json", "--purpose", "T-1"], environment: ["KOKI_DATABASE_URL": stack.databaseURL])
        #expect(status == 0, "\(output)")
        let json = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
        #expect(json?["atenaNo"] as? String == a)
        #expect(json?["householdNo"] as? String == "0000000101")
        #expect(json?["myNumber"] as? String == "********9018", "個人番号 masked")
        let periods = json?["qualifications"] as? [[String: Any]]
        #expect(periods?.count == 1 && periods?[0]["acquiredOn"] as? String == "2026-05-20"
                && periods?[0]["acquisitionReason"] as? String == "age-75" && periods?[0]["lostOn"] is NSNull)
        let (humanStatus, human) = try await runCommand("koki", ["person", b, "--purpose", "T-1"], environment: ["KOKI_DATABASE_URL": stack.databaseURL])
        #expect(humanStatus == 0 && human.contains("取得 令和8年4月1日（転入）") && human.contains("喪失 令和8年5月10日（転出）"), "\(human)")
        // M5: each read above is in the access log, with its purpose and the database login; a read
        // without a purpose is refused before anything is read.
        #expect(try await stack.count("""
            SELECT count(*) FROM access_log WHERE subject IN (\("person:" + a), \("person:" + b)) AND purpose = 'T-1'
              AND command = 'person' AND session_login = 'postgres' AND '資格' = ANY(fields)
            """) == 2)
        let (refused, refusal) = try await runCommand("koki", ["person", a], environment: ["KOKI_DATABASE_URL": stack.databaseURL])
        #expect(refused != 0 && refusal.contains("--purpose is required"))
        let (missing, message) = try await runCommand("koki", ["person", "0000099999", "--purpose", "T-1"],
                                                      environment: ["KOKI_DATABASE_URL": stack.databaseURL])
        #expect(missing != 0 && message.contains("no person"))
    }
}

extension ResidentWorkerTests {
    /// 住基情報 goes to the insurer on the business day for a household a resident event touched
    /// since the last one, when someone in it is insured or 74 and over that day, and for no
    /// other; a household touched again is told again on the next day.
    @Test func residentRecordsOnlyForHouseholdsNearSeventyFive() async throws {
        let stack = try await ResidentStack()
        defer { stack.stopAll() }
        try stack.start()
        let y1 = "0000000201", y2 = "0000000202", a = "0000000203", b = "0000000204"
        try await stack.send([
            person(y1, household: "0000000301", born: "1980-01-01", .corrected, on: "2026-04-01"),
            person(y2, household: "0000000301", born: "1982-02-02", .corrected, on: "2026-04-01", relationship: .spouse),
            person(a, household: "0000000302", born: "1952-06-01", .corrected, on: "2026-04-01"),
        ])
        try await stack.waitApplied(3)
        #expect(try await stack.publishedTransfers().filter { $0.type == "koiki.resident-record" }.isEmpty,
                "nothing before the business day")
        // 29 May: she is 73.
        try await stack.send([factory.businessDay(d("2026-05-29"))])
        try await stack.waitApplied(4)
        #expect(try await stack.count("SELECT count(*) FROM outbox WHERE ce_type = 'koiki.resident-record'") == 0,
                "no one 74 or over that day: nothing to tell")
        // Her son moves in; on 1 June (her 74th birthday) the household is told, with both.
        try await stack.send([person(b, household: "0000000302", born: "1985-03-03", .movedIn, on: "2026-05-30",
                                     relationship: .child, previous: Self.tokyo)])
        try await stack.waitApplied(5)
        try await stack.send([factory.businessDay(d("2026-06-01"))])
        try await stack.waitApplied(6)
        let records = try await stack.publishedTransfers().filter { $0.type == "koiki.resident-record" }
        #expect(records.count == 1 && records[0].body.contains("\"householdNo\":\"0000000302\"")
                    && records[0].key == a && records[0].body.contains("\"atenaNo\":\"\(b)\""), "\(records.map(\.body))")
        // Untouched since: the next business day tells nothing.
        try await stack.send([factory.businessDay(d("2026-06-02"))])
        try await stack.waitApplied(7)
        #expect(try await stack.count("SELECT count(*) FROM outbox WHERE ce_type = 'koiki.resident-record'") == 1)
    }

    /// Two connections apply a poll's partitions at once, and a household's members arrive on
    /// different partitions: the business day's 住基情報 reads every member the batches committed,
    /// one per household, each naming them all.
    @Test func householdRecordsStayCompleteAcrossConnections() async throws {
        let stack = try await ResidentStack()
        defer { stack.stopAll() }
        var events: [OutgoingMessage] = []
        for household in 1...600 {
            for member in 0..<3 {
                events.append(person(String(format: "%010d", 10_000 + household * 7 + member * 3_001),
                                     household: String(format: "%010d", 500_000 + household), born: "1945-05-05",
                                     .corrected, on: "2026-04-01", relationship: member == 0 ? .head : .spouse))
            }
        }
        try await stack.send(events)
        try stack.start(extra: ["KOKI_BATCH_MAX_EVENTS": "3000", "KOKI_DB_CONNECTIONS": "2"])
        try await stack.waitApplied(events.count, timeout: .seconds(300))
        try await stack.send([factory.businessDay(d("2026-04-01"))])
        try await stack.waitApplied(events.count + 1)
        #expect(try await stack.count("""
            SELECT count(*) FROM outbox WHERE ce_type = 'koiki.resident-record'
            """) == 600, "one per household")
        #expect(try await stack.count("""
            WITH latest AS (
                SELECT DISTINCT ON (body->>'householdNo') body->>'householdNo' AS household_no, body->'members' AS members
                FROM (SELECT id, convert_from(payload, 'UTF8')::jsonb AS body FROM outbox WHERE ce_type = 'koiki.resident-record') o
                ORDER BY body->>'householdNo', id DESC)
            SELECT count(*) FROM latest
            WHERE (SELECT array_agg(m->>'atenaNo' ORDER BY m->>'atenaNo') FROM jsonb_array_elements(members) AS m)
                IS DISTINCT FROM (SELECT array_agg(atena_no ORDER BY atena_no) FROM residents
                                  WHERE household_no = latest.household_no AND lives_here)
            """) == 0, "the last 住基情報 of every household is complete")
    }

    /// A bulk run: a 20k-resident synthetic register through the worker process, on two
    /// connections (a household's members arrive on different partitions and meet at its lock).
    @Test func syntheticRegisterOf20kResidents() async throws {
        let stack = try await ResidentStack()
        defer { stack.stopAll() }
        var options = SyntheticResidents.Options()
        options.residents = 20_000
        let register = SyntheticResidents.events(options)
        try await stack.send(register)
        try stack.start(extra: ["KOKI_BATCH_MAX_EVENTS": "1000", "KOKI_DB_CONNECTIONS": "2"])
        try await stack.waitApplied(register.count, timeout: .seconds(600))
        #expect(try await stack.count("SELECT count(*) FROM resident_history") == register.count)
        #expect(try await stack.count("SELECT count(*) FROM residents WHERE current_history_no IS NOT NULL") == 20_000)
        let insured = try await stack.count("SELECT count(*) FROM residents WHERE insured")
        #expect(insured > 20_000 / 12 && insured < 20_000 / 5, "about one in eight is 75+ (\(insured))")
        let transfers = try await stack.publishedTransfers()
        #expect(transfers.filter { $0.type == "koiki.qualification-acquired" }.count
                == (try await stack.count("SELECT count(*) FROM qualification_history WHERE change = 'acquired'")))
    }
}

/// The resident worker's stack: every koki topic on an in-process mock cluster, a migrated
/// database, koki-resident-worker and koki-relay as children.
final class ResidentStack: @unchecked Sendable {  // used from one test task
    let cluster: MockKafkaCluster
    let databaseURL: String
    let producer: KafkaProducer
    var children: [ChildProcess] = []

    init() async throws {
        cluster = try MockKafkaCluster(brokers: 3)
        for topic in Topics.all {
            try cluster.createTopic(topic.name, partitions: topic.partitions, replicationFactor: 3)
        }
        databaseURL = try await MigratedDatabase.create()
        producer = try KafkaProducer(config: cluster.config())
    }

    func start(workers: [String] = ["koki-resident-worker"], extra: [String: String] = [:]) throws {
        var env = [
            "KOKI_KAFKA_BROKERS": cluster.bootstrapServers,
            "KOKI_KAFKA_PROPERTIES": "session.timeout.ms=4000;heartbeat.interval.ms=500",
            "KOKI_DATABASE_URL": databaseURL,
            "KOKI_HTTP_PORT": "0",
            "KOKI_BATCH_MAX_WAIT_MS": "50",
            // Scenarios jump between the days that matter, in years ahead of the wall clock.
            "KOKI_CLOCK_WINDOW_DAYS": "3660",
            "KOKI_CLOCK_LATEST": "2099-12-31",
        ].merging(TestDeadLetterKeys.environment) { $1 }
        // A worker whose upstream worker is not in this stack keeps its own days.
        if workers.contains("koki-payment-worker") && !workers.contains("koki-tax-worker") { env["KOKI_CALENDAR_AFTER"] = "none" }
        if workers.contains("koki-tax-worker") && !workers.contains("koki-resident-worker") { env["KOKI_CALENDAR_AFTER"] = "none" }
        env.merge(extra) { _, new in new }
        for worker in workers + ["koki-relay"] {
            children.append(try ChildProcess(worker, environment: env))
        }
    }

    func send(_ messages: [OutgoingMessage]) async throws {
        let results = try await producer.send(messages)
        #expect(results.allSatisfy { if case .success = $0 { true } else { false } })
    }

    func query(_ sql: SQL) async throws -> [PostgresRow] {
        let conn = try await PostgresConnection.connect(databaseURL)
        return try await conn.run { try $0.query(sql) }
    }

    func count(_ sql: SQL) async throws -> Int { try await query(sql)[0].decode(Int.self, at: 0) }

    func strings(_ sql: SQL) async throws -> [String] { try await query(sql).map { try $0.decode(String.self, at: 0) } }

    /// Waits until `events` are applied and `deadLetters` dead-lettered (fails the test if not).
    func waitApplied(_ events: Int, deadLetters: Int = 0, timeout: Duration = .seconds(90)) async throws {
        let deadline = ContinuousClock.now + timeout
        var applied = 0, dead = 0
        while ContinuousClock.now < deadline {
            applied = (try? await count("SELECT count(*) FROM inbox")) ?? 0
            dead = (try? await count("SELECT count(*) FROM dead_letters")) ?? 0
            if applied >= events && dead >= deadLetters { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(applied == events && dead == deadLetters,
                "applied \(applied) of \(events), dead-lettered \(dead) of \(deadLetters)\n\(children.map(\.log).joined(separator: "\n"))")
    }

    /// Waits until `sql` (a count) is at least `atLeast`; fails the test with the children's logs if not.
    func waitFor(_ what: String, _ sql: SQL, atLeast: Int = 1, timeout: Duration = .seconds(90)) async throws {
        let deadline = ContinuousClock.now + timeout
        var value = 0
        while ContinuousClock.now < deadline {
            value = (try? await count(sql)) ?? 0
            if value >= atLeast { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("\(what): \(value) < \(atLeast)\n\(children.map(\.log).joined(separator: "\n").suffix(4000))")
    }

    /// [acquiredOn, acquisitionReason, lostOn, lossReason] per period.
    func periods(_ atenaNo: String) async throws -> [[String?]] {
        try await query("""
            SELECT acquired_on::text, acquisition_reason, lost_on::text, loss_reason FROM qualification_periods
            WHERE atena_no = \(atenaNo) ORDER BY acquired_on
            """).map { row in try (0..<4).map { try row.decode(String?.self, at: $0) } }
    }

    struct Transfer { let topic: String; let key: String; let type: String; let body: String }

    /// Every transfer the relay published, once the outbox is drained.
    func publishedTransfers() async throws -> [Transfer] {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline,
              try await count("SELECT count(*) FROM outbox WHERE published_at IS NULL") > 0 {
            try await Task.sleep(for: .milliseconds(200))
        }
        let expected = try await count("SELECT count(*) FROM outbox WHERE topic LIKE 'transfer.%'")
        #expect(try await count("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0, "the relay drained the outbox")
        let consumer = try KafkaConsumer(config: cluster.config(properties: ["session.timeout.ms": "4000"]),
                                         groupID: "verify-\(UUID().uuidString)")
        try consumer.subscribe(Topics.outbound.map(\.name))
        var transfers: [Transfer] = []
        let readDeadline = ContinuousClock.now + .seconds(120)
        while transfers.count < expected, ContinuousClock.now < readDeadline {
            for message in try await consumer.poll(maxMessages: 5000, timeout: .milliseconds(300)).messages {
                transfers.append(Transfer(topic: message.topic, key: message.keyText ?? "", type: message.headers.text("ce_type") ?? "",
                                          body: String(decoding: message.value ?? [], as: UTF8.self)))
            }
        }
        try await consumer.close()
        #expect(transfers.count == expected, "every transfer in the outbox is on its topic")
        // Each as the published contract says (contracts/schemas).
        for transfer in transfers {
            guard let validator = try SchemaValidator.forType(transfer.type) else {
                Issue.record("no schema in contracts/schemas for \(transfer.type)")
                continue
            }
            let errors = validator.validate(try JSONSerialization.jsonObject(with: Data(transfer.body.utf8)))
            if !errors.isEmpty { Issue.record("\(transfer.type) on \(transfer.topic) breaks its contract: \(errors)") }
        }
        // The notices as koki wrote them conform too (the print contractor's rules are the
        // contract's fields: a field the contract lacks would never be printed).
        for row in try await notices() {
            guard let validator = try SchemaValidator.forType(row.type) else {
                Issue.record("no schema in contracts/schemas for \(row.type)")
                continue
            }
            let errors = validator.validate(try JSONSerialization.jsonObject(with: Data(row.body.utf8)))
            if !errors.isEmpty { Issue.record("\(row.type) breaks its contract: \(errors)") }
        }
        return transfers
    }

    /// The notices in the outbox, as koki wrote them.
    func notices() async throws -> [(type: String, body: String)] {
        let conn = try await PostgresConnection.connect(databaseURL)
        return try await conn.run { conn in
            try conn.query("SELECT ce_type, convert_from(payload, 'UTF8') FROM outbox WHERE topic = 'koki.notices.v1' ORDER BY id")
                .map { (try $0.decode(String.self, at: 0), try $0.decode(String.self, at: 1)) }
        }
    }

    func stopAll() {
        for child in children { child.signal(SIGKILL) }
        LogScan.check(children)
    }
}

extension ResidentWorkerTests {
    /// 喪失日 by where the person went (高確法 53条, DOMAIN.md; EVENTS.md: a moved-out's effective date
    /// is the 転出日, the day the new address starts): to another prefecture (another union's area)
    /// lost that day; abroad (no other union) the day after; 職権消除 the day after its date.
    @Test func theLossDateFollowsWhereThePersonWent() async throws {
        let stack = try await ResidentStack()
        defer { stack.stopAll() }
        try stack.start()
        let t = "0000000301", u = "0000000302", v = "0000000303"
        let abroad = ResidentChange.Address(postalCode: nil, cityCode: nil, prefecture: nil, line: "Honolulu, HI, USA", katagaki: nil)
        try await stack.send([factory.businessDay(d("2026-04-01"))])
        try await stack.send([person(t, household: "0000000301", born: "1940-01-01", .corrected, on: "2026-03-31"),
                              person(u, household: "0000000302", born: "1940-01-01", .corrected, on: "2026-03-31"),
                              person(v, household: "0000000303", born: "1940-01-01", .corrected, on: "2026-03-31")])
        try await stack.waitFor("insured", "SELECT count(*) FROM qualification_periods", atLeast: 3)
        let movedAbroad = person(u, household: "0000000302", born: "1940-01-01", .movedOut, on: "2026-06-10", next: abroad)
        // EVENTS.md's move abroad (no city, no prefecture) is valid under the published schema.
        let schema = try #require(try SchemaValidator.forType("resident.moved-out"))
        #expect(schema.validate(try JSONSerialization.jsonObject(with: Data(movedAbroad.value ?? []))) == [])
        try await stack.send([person(t, household: "0000000301", born: "1940-01-01", .movedOut, on: "2026-06-10", next: Self.tokyo),
                              movedAbroad,
                              person(v, household: "0000000303", born: "1940-01-01", .removed, on: "2026-06-10"),
                              factory.businessDay(d("2026-06-15"))])
        try await stack.waitFor("lost", "SELECT count(*) FROM qualification_periods WHERE lost_on IS NOT NULL", atLeast: 3)
        #expect(try await stack.periods(t).first?[2] == "2026-06-10", "to Tokyo: lost on the 転出日")
        #expect(try await stack.periods(u).first?[2] == "2026-06-11", "abroad: lost the day after")
        #expect(try await stack.periods(v).first?[2] == "2026-06-11", "職権消除: lost the day after its date")
        #expect(try await stack.count("SELECT count(*) FROM dead_letters") == 0, "resident.removed is in the contract")
    }
}
