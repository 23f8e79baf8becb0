import Foundation
import Kafka
import KokiBase
import KokiSynth
import Postgres
import Testing
import Transfer
@testable import WorkerRuntime

/// The transfer policy as data, its enforcement, and the hash-chained transfer log.
@Suite("Transfer policy and audit log")
struct TransferPolicyTests {
    static func policy() async throws -> (TransferPolicy, TransferPolicy.Rules, String) {
        let url = try await MigratedDatabase.create()
        let conn = try await PostgresConnection.connect(url)
        let rules = try await conn.run { try TransferPolicy.load(on: $0) }
        return (TransferPolicy(rules: rules, opener: TestKeys.opener, today: { LocalDate(year: 2026, month: 11, day: 28)! }), rules, url)
    }

    static func row(_ topic: String, _ type: String, _ body: [String: Any], key: String = "0000000001") -> OutboxMessage {
        OutboxMessage(id: 1, topic: topic, key: key, ceID: UUID().uuidString, ceType: type, headers: [],
                      payload: Array(try! JSONSerialization.data(withJSONObject: body)), createdAt: Date())
    }

    /// Random bodies of every type, with extra fields, nested junk and 個人番号 sprinkled in:
    /// nothing outside a destination's allow-list is ever published, and nothing without a basis.
    @Test func nothingOutsideTheAllowListIsEverPublished() async throws {
        let (policy, rules, _) = try await Self.policy()
        var random = SeededRandom(seed: 11)
        let topics = rules.destinations.keys.sorted() + ["transfer.unknown.v1"]
        let types = Set(rules.rules.values.flatMap(\.keys)).sorted() + ["koiki.made-up", "qualification.secret"]
        let names = ["atenaNo", "myNumber", "nameKanji", "address", "members", "period", "income", "note", "insuredNumber",
                     "acquiredOn", "premium", "ratio", "figures", "before", "people", "installments", "person", "line"]
        func value(_ depth: Int) -> Any {
            switch Int.random(in: 0..<(depth > 2 ? 3 : 5), using: &random) {
            case 0: return "123456789018"
            case 1: return Int.random(in: 0...1_000_000, using: &random)
            case 2: return "川口市本町1-1-1"
            case 3: return (0..<Int.random(in: 0...3, using: &random)).map { _ in object(depth + 1) }
            default: return object(depth + 1)
            }
        }
        func object(_ depth: Int) -> [String: Any] {
            var o: [String: Any] = [:]
            for _ in 0..<Int.random(in: 1...6, using: &random) { o[names.randomElement(using: &random)!] = value(depth) }
            return o
        }
        func paths(_ o: Any, _ prefix: String) -> [String] {
            if let d = o as? [String: Any] { return d.flatMap { paths($0.value, prefix.isEmpty ? $0.key : prefix + "." + $0.key) } }
            if let l = o as? [Any] { return l.flatMap { paths($0, prefix + "[]") } }
            return [prefix]
        }
        var published = 0, held = 0
        for _ in 0..<100_000 {
            let topic = topics.randomElement(using: &random)!, type = types.randomElement(using: &random)!
            // Most rows are about the person they are keyed by, as koki writes them.
            var input = object(0)
            if Int.random(in: 0..<10, using: &random) < 7 { input["atenaNo"] = "0000000001" }
            let decision = policy.decide(Self.row(topic, type, input))
            guard case .publish(let message, let audit) = decision else { held += 1; continue }
            published += 1
            let destination = try #require(rules.destinations[topic])
            let rule = try #require(rules.rules[destination.destination]?[type], "published without a basis")
            let body = try JSONSerialization.jsonObject(with: Data(message.value ?? []))
            for path in paths(body, "") where !path.isEmpty {
                #expect(rule.fields.contains(path), "\(path) is not allowed for \(type) at \(destination.destination)")
                if !rule.myNumberAllowed { #expect(!path.hasSuffix("myNumber")) }
            }
            #expect(audit?.legalBasis == destination.legalBasis && audit?.fields.allSatisfy(rule.fields.contains) == true)
        }
        #expect(published > 1_000 && held > 1_000)
    }

    /// M2: the notices go to the print contractor under the policy — each type's fields, audited
    /// as 委託 — and a notice type without a rule, or a body with a 個人番号, is held.
    @Test func noticesGoToThePrintContractorUnderTheirRules() async throws {
        let (policy, _, _) = try await Self.policy()
        let dunning: [String: Any] = ["atenaNo": "0000000001", "fiscalYear": 2026, "installmentNo": 1, "method": "ordinary",
                                      "kind": "premium", "dueDate": "2026-07-31", "amount": 7_500, "balance": 7_500,
                                      "onDate": "2026-08-20", "nameKanji": "試験 花子", "address": "川口市本町1-1-1"]
        guard case .publish(let message, let audit) = policy.decide(Self.row("koki.notices.v1", "notice.dunning", dunning)) else {
            Issue.record("a dunning notice was not published")
            return
        }
        let body = try JSONSerialization.jsonObject(with: Data(message.value ?? [])) as? [String: Any] ?? [:]
        #expect(body["amount"] as? Int == 7_500 && body["nameKanji"] == nil && body["address"] == nil, "\(body)")
        #expect(audit?.destination == "print-contractor" && audit?.legalBasis.contains("委託") == true)
        #expect(audit?.fields.contains("nameKanji") == false)
        guard case .hold(let reason) = policy.decide(Self.row("koki.notices.v1", "notice.made-up", dunning)) else {
            Issue.record("a notice type without a rule went out")
            return
        }
        #expect(reason.contains("no legal basis"))
        var withNumber = dunning
        withNumber["kind"] = "123456789018"
        guard case .hold = policy.decide(Self.row("koki.notices.v1", "notice.dunning", withNumber)) else {
            Issue.record("a 個人番号 went to the print contractor")
            return
        }
    }

    static func raw(_ body: String, type: String = "application.high-cost-medical", headers: [KafkaHeader] = []) -> OutboxMessage {
        OutboxMessage(id: 1, topic: "transfer.koiki.v1", key: "0000000001", ceID: UUID().uuidString, ceType: type,
                      headers: headers, payload: Array(body.utf8), createdAt: Date())
    }

    /// H6: a repeated name cannot smuggle a value past the projection — the relay holds it.
    @Test func aRepeatedNameIsHeldNotForwarded() async throws {
        let (policy, _, _) = try await Self.policy()
        let smuggled = #"{"atenaNo":"0000000001","receivedDate":"2026-05-01","applicationNo":"A1","#
            + #""bankAccountRef":{"myNumber":"123456789018","diagnosis":"x"},"bankAccountRef":"B-1"}"#
        guard case .hold(let reason) = policy.decide(Self.raw(smuggled)) else {
            Issue.record("a body with a repeated name was published"); return
        }
        #expect(reason == "the body is not a JSON object with unique names")
    }

    /// H6: what goes out is koki's serialization of what it checked, never the upstream bytes,
    /// and a 個人番号 under any name is held where the rule allows none.
    @Test func onlyCheckedBytesGoOut() async throws {
        let (policy, _, _) = try await Self.policy()
        let spaced = #"{ "applicationNo" : "A1", "atenaNo":"0000000001",  "receivedDate":"2026-05-01","bankAccountRef":"B-1" }"#
        guard case .publish(let message, _) = policy.decide(Self.raw(spaced)) else { Issue.record("held"); return }
        let sent = try #require(message.value)
        #expect(sent != Array(spaced.utf8), "re-serialized, not forwarded as received")
        #expect(try JSONValue.parse(sent) == (try JSONValue.parse(Array(spaced.utf8))))
        let hidden = #"{"atenaNo":"0000000001","receivedDate":"2026-05-01","applicationNo":"A1","bankAccountRef":"123456789018"}"#
        guard case .hold(let reason) = policy.decide(Self.raw(hidden)) else { Issue.record("a 個人番号 went out"); return }
        #expect(reason == "the body carries a 個人番号 and the rule allows none")
        let notOne = hidden.replacingOccurrences(of: "123456789018", with: "123456789012")  // wrong check digit
        guard case .publish = policy.decide(Self.raw(notOne)) else { Issue.record("held a reference that is not a 個人番号"); return }
    }

    /// M1: a transfer carries the CloudEvents headers only: no upstream causation id, no trace.
    @Test func transfersCarryOnlyTheCloudEventsHeaders() async throws {
        let (policy, _, _) = try await Self.policy()
        let headers = [KafkaHeader("ce_specversion", "1.0"), KafkaHeader("ce_id", "x"), KafkaHeader("ce_type", "t"),
                       KafkaHeader("ce_source", "urn:koki:resident-worker"), KafkaHeader("ce_time", "2026-07-01T00:00:00Z"),
                       KafkaHeader("content-type", "application/json"), KafkaHeader("traceparent", "00-aa-bb-01"),
                       KafkaHeader(KokiHeader.causationID, "synth-1-welfare-123")]
        let body = #"{"atenaNo":"0000000001","receivedDate":"2026-05-01","applicationNo":"A1","bankAccountRef":"B-1"}"#
        guard case .publish(let message, _) = policy.decide(Self.raw(body, headers: headers)) else { Issue.record("held"); return }
        #expect(message.headers.map(\.key) == ["ce_specversion", "ce_id", "ce_type", "ce_source", "ce_time", "content-type"])
    }

    @Test func holdsWithoutABasisOrOutsideItsPeriod() async throws {
        let (_, rules, _) = try await Self.policy()
        let policy = TransferPolicy(rules: rules, opener: TestKeys.opener, today: { LocalDate(year: 2007, month: 1, day: 1)! })
        guard case .hold(let reason) = policy.decide(Self.row("transfer.koiki.v1", "koiki.certificate-issued", ["atenaNo": "1"])) else {
            Issue.record("published before the basis was active"); return
        }
        #expect(reason.contains("active period"))
        let now = TransferPolicy(rules: rules, opener: TestKeys.opener, today: { LocalDate(year: 2026, month: 11, day: 28)! })
        // A department never gets premiums it has no basis for; the notices go to the print
        // contractor as their rule says (a field it does not name stays behind).
        if case .publish = now.decide(Self.row("transfer.disability-welfare.v1", "premium.changed", ["atenaNo": "1"])) {
            Issue.record("published a premium to 障害福祉課")
        }
        guard case .publish(let notice, let audit) = now.decide(Self.row("koki.notices.v1", "notice.refund",
                                                                          ["atenaNo": "0000000001", "x": 2])) else {
            Issue.record("held a notice"); return
        }
        #expect(audit?.destination == "print-contractor" && String(decoding: notice.value ?? [], as: UTF8.self) == #"{"atenaNo":"0000000001"}"#)
        guard case .publish(let own, let ownAudit) = now.decide(Self.row("koki.resident-updates.v1", "koki.resident-update",
                                                                          ["atenaNo": "0000000001", "x": 2])) else {
            Issue.record("held an internal topic"); return
        }
        #expect(ownAudit == nil && own.value != nil, "koki's own topics between its workers pass unchanged")
    }

    /// Each kind of tampering with the chain is found by `koki audit verify`.
    @Test("tampering is detected", arguments: ["edit", "delete", "insert", "reorder"])
    func tampering(_ kind: String) async throws {
        let url = try await MigratedDatabase.create()
        let conn = try await PostgresConnection.connect(url)
        try await conn.run { conn in
            for batch in 0..<3 {
                let n = 4
                _ = try conn.query("""
                    SELECT audit_append(\((0..<n).map { _ in "koiki" })::text[], \((0..<n).map { "e\(batch)-\($0)" })::text[],
                                        \((0..<n).map { _ in "koiki.receipt" })::text[], \((0..<n).map { String(format: "%010d", $0) })::text[],
                                        \(try (0..<n).map { _ in try PostgresJSON(encoding: ["atenaNo", "amount"]) })::jsonb[],
                                        \((0..<n).map { _ in "basis" })::text[],
                                        \(try (0..<n).map { try PostgresJSON(encoding: [String(format: "%010d", $0)]) })::jsonb[], 'relay-test')
                    """)
            }
        }
        let clean = try await runCommand("koki", ["audit", "verify"], environment: ["KOKI_DATABASE_URL": url])
        #expect(clean.0 == 0 && clean.1.contains("12 rows"), "\(clean.1)")
        try await conn.run { conn in
            // As the log's owner (what only a superuser can still become): the chain shows it.
            try conn.execute("SET ROLE koki_audit")
            defer { try? conn.execute("RESET ROLE") }
            switch kind {
            case "edit": try conn.execute("UPDATE audit_log SET destination = 'municipal-tax' WHERE seq = 5")
            case "delete": try conn.execute("DELETE FROM audit_log WHERE seq = 7")
            case "insert":
                try conn.execute("""
                    INSERT INTO audit_log SELECT 13, destination, 'forged', event_type, atena_no, fields, legal_basis, published_at,
                                                 relay_instance, hash, 'deadbeef' FROM audit_log WHERE seq = 12
                    """)
            default:
                try conn.execute("UPDATE audit_log SET seq = -seq WHERE seq IN (3, 4)")
                try conn.execute("UPDATE audit_log SET seq = CASE seq WHEN -3 THEN 4 ELSE 3 END WHERE seq IN (-3, -4)")
            }
        }
        let (status, output) = try await runCommand("koki", ["audit", "verify"], environment: ["KOKI_DATABASE_URL": url])
        #expect(status != 0 && output.contains("row"), "\(kind): \(output)")
    }

    /// audit_append collects a call's rows and inserts them at once: each must still follow the
    /// row before it and hash as audit_hash (what `koki audit verify` recomputes) says, for rows
    /// with and without a person, fields or subjects, across calls.
    @Test func appendedRowsHashAsAuditHashSays() async throws {
        let conn = try await PostgresConnection.connect(try await MigratedDatabase.create())
        let (rows, mismatched) = try await conn.run { conn -> (Int, Int) in
            for call in 0..<2 {
                let fields = try [["atenaNo", "amount"], [], ["members[].atenaNo"]].map { try PostgresJSON(encoding: $0) }
                let subjects = try [["0000000001"], [], ["0000000003", "0000000004"]].map { try PostgresJSON(encoding: $0) }
                _ = try conn.query("""
                    SELECT audit_append(\(["koiki", "municipal-tax", "welfare-livelihood"])::text[],
                                        \(["e\(call)-1", "e\(call)-2", "e\(call)-3"])::text[],
                                        \(["koiki.receipt", "municipal-tax.premiums-paid", "住基情報"])::text[],
                                        \(["0000000001", nil, "0000000003"] as [String?])::text[], \(fields)::jsonb[],
                                        \(["高齢者の医療の確保に関する法律第138条", "basis|with,separators", ""])::text[],
                                        \(subjects)::jsonb[], \("relay-\(call)"))
                    """)
            }
            return try conn.query("""
                SELECT count(*)::int, count(*) FILTER (WHERE hash IS DISTINCT FROM audit_hash(prev_hash, a))::int FROM audit_log a
                """)[0].decode(Int.self, Int.self)
        }
        #expect(rows == 6)
        #expect(mismatched == 0)
        let verified = try await conn.run { try AuditLog.verify(on: $0) }
        #expect(verified.rows == 6 && verified.problem == nil, "\(verified.problem ?? "")")
    }

    /// L7: the report's days are Japanese days — a transfer at 01:00 in Tokyo on 2 July (16:00
    /// UTC on 1 July) is reported on 2 July.
    @Test func theReportCountsDaysInTokyo() async throws {
        let conn = try await PostgresConnection.connect(try await MigratedDatabase.create())
        let lines = try await conn.run { conn -> (julyFirst: Int, julySecond: Int) in
            _ = try conn.query("""
                SELECT audit_append(ARRAY['koiki'], ARRAY['e1'], ARRAY['koiki.receipt'], ARRAY['0000000001'],
                                    ARRAY['["atenaNo"]'::jsonb], ARRAY['basis'], ARRAY['["0000000001"]'::jsonb], 'relay')
                """)
            try conn.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
            try conn.execute("UPDATE audit_log SET published_at = '2026-07-01T16:00:00Z'")
            func count(_ day: String) throws -> Int {
                try AuditLog.report(destination: "koiki", from: LocalDate(iso: day)!, to: LocalDate(iso: day)!, on: conn)
                    .reduce(0) { $0 + $1.count }
            }
            return (try count("2026-07-01"), try count("2026-07-02"))
        }
        #expect(lines.julyFirst == 0 && lines.julySecond == 1)
        // And the policy's active period is checked against today in Tokyo.
        #expect(LocalDate.todayInTokyo(Date(timeIntervalSince1970: 1_782_921_600)) == LocalDate(iso: "2026-07-02")!)
    }

    /// M1: a transfer's key is seen by its reader: one that names a person the body is not about is held.
    @Test func aKeyNamingSomeoneElseIsHeld() async throws {
        let (policy, _, _) = try await Self.policy()
        let body: [String: Any] = ["atenaNo": "0000000001", "receivedDate": "2026-05-01", "applicationNo": "A1", "bankAccountRef": "B-1"]
        guard case .publish = policy.decide(Self.row("transfer.koiki.v1", "application.high-cost-medical", body)) else {
            Issue.record("held a transfer keyed by its own subject"); return
        }
        guard case .hold(let reason) = policy.decide(Self.row("transfer.koiki.v1", "application.high-cost-medical", body,
                                                               key: "0000000002")) else {
            Issue.record("a key naming someone else went out"); return
        }
        #expect(reason == "the message key names a person the body is not about")
    }

    /// M2: the relay publishes to koki's own topics and transfer topics only; a `.dlq` carries
    /// references only.
    @Test func onlyKokisOwnTopicsAreWritten() async throws {
        let (_, rules, _) = try await Self.policy()
        let policy = TransferPolicy(rules: rules, opener: TestKeys.opener, ownTopics: ["koki.notices.v1", "resident.changes.v1.dlq"],
                                    today: { LocalDate(year: 2026, month: 11, day: 28)! })
        guard case .hold(let reason) = policy.decide(Self.row("clock.business-day.v1", "clock.business-day", ["date": "2062-04-01"])) else {
            Issue.record("a forged business day went out"); return
        }
        #expect(reason == "koki publishes nothing to this topic")
        guard case .publish = policy.decide(Self.row("koki.notices.v1", "notice.refund", ["atenaNo": "0000000001"])) else {
            Issue.record("held a notice"); return
        }
        guard case .hold(let copy) = policy.decide(Self.row("resident.changes.v1.dlq", "resident.moved-in", ["atenaNo": "1"])) else {
            Issue.record("a body went to a dead-letter topic"); return
        }
        #expect(copy == "a dead-letter topic carries references only")
        guard case .publish = policy.decide(Self.row("resident.changes.v1.dlq", "koki.dead-letter", ["topic": "x"])) else {
            Issue.record("held a reference"); return
        }
    }

    /// M5: a change to the transfer policy leaves a trace that nobody can edit.
    @Test func policyChangesAreVersioned() async throws {
        let conn = try await PostgresConnection.connect(try await MigratedDatabase.create())
        try await conn.run { conn throws in
            try conn.execute("""
                UPDATE transfer_rules SET fields = fields || ARRAY['nameKanji'] WHERE destination = 'koiki'
                  AND event_type = 'application.high-cost-medical'
                """)
            let history = try conn.query("""
                SELECT table_name, operation, old_row->'fields', new_row->'fields', session_login FROM transfer_policy_history
                WHERE new_row->>'event_type' = 'application.high-cost-medical'
                """)
            // A migration's change of the policy is versioned the same way (期割情報 gained `provisional`).
            #expect(try conn.query("""
                SELECT 1 FROM transfer_policy_history WHERE new_row->>'event_type' = 'koiki.installments' AND operation = 'UPDATE'
                """).count == 1)
            #expect(history.count == 1)
            #expect(try history[0].decode(String.self, at: 0) == "transfer_rules" && history[0].decode(String.self, at: 1) == "UPDATE")
            #expect(try history[0].decode(String.self, at: 3).contains("nameKanji") && !history[0].decode(String.self, at: 2).contains("nameKanji"))
            #expect(throws: PostgresError.self) { try conn.execute("DELETE FROM transfer_policy_history") }
            #expect(throws: PostgresError.self) { try conn.execute("TRUNCATE transfer_policy_history") }
        }
    }

    @Test func appendOnlyForEveryoneButTheOwner() async throws {
        let url = try await MigratedDatabase.create()
        let conn = try await PostgresConnection.connect(url)
        let refused = try await conn.run { conn -> Bool in
            _ = try conn.query("""
                SELECT audit_append(ARRAY['koiki'], ARRAY['e1'], ARRAY['koiki.receipt'], ARRAY['0000000001'],
                                    ARRAY['["atenaNo"]'::jsonb], ARRAY['basis'], ARRAY['["0000000001"]'::jsonb], 'relay-test')
                """)
            let role = "koki_someone_\(UInt32.random(in: 0...UInt32.max))"
            try conn.execute(SQL(unsafeSQL: "CREATE ROLE \(role)"))
            try conn.execute(SQL(unsafeSQL: "GRANT SELECT, UPDATE, DELETE ON audit_log TO \(role)"))
            try conn.execute(SQL(unsafeSQL: "SET ROLE \(role)"))
            defer { try? conn.execute("RESET ROLE") }
            do {
                try conn.execute("UPDATE audit_log SET destination = 'x'")
                return false
            } catch let error as PostgresError {
                return error.sqlState == "42501"
            }
        }
        #expect(refused, "a role with UPDATE granted still cannot change an audit row")
    }

    /// H7: the log's owner deletes rows 7–12 of 12 and recomputes nothing (the chain 1–6 is
    /// whole) — or rewrites and rehashes from row 5: the checkpoint kept outside finds both.
    @Test("a rebuilt chain is found against its checkpoint", arguments: ["truncated", "rehashed"])
    func aRebuiltChainIsFoundAgainstItsCheckpoint(kind: String) async throws {
        let url = try await MigratedDatabase.create()
        let conn = try await PostgresConnection.connect(url)
        try await conn.run { conn throws in
            _ = try conn.query("""
                SELECT audit_append(\((0..<12).map { _ in "koiki" })::text[], \((0..<12).map { "e\($0)" })::text[],
                                    \((0..<12).map { _ in "koiki.receipt" })::text[], \((0..<12).map { String(format: "%010d", $0) })::text[],
                                    \(try (0..<12).map { _ in try PostgresJSON(encoding: ["atenaNo"]) })::jsonb[],
                                    \((0..<12).map { _ in "basis" })::text[],
                                    \(try (0..<12).map { try PostgresJSON(encoding: [String(format: "%010d", $0)]) })::jsonb[], 'relay')
                """)
        }
        let file = NSTemporaryDirectory() + "checkpoints-\(UUID().uuidString)"
        let env = ["KOKI_DATABASE_URL": url]
        let (taken, line) = try await runCommand("koki", ["audit", "checkpoint", "--out", file], environment: env)
        #expect(taken == 0 && line.contains("\"seq\":12"), "\(line)")
        #expect((try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int) == 0o600)
        let (clean, cleanOutput) = try await runCommand("koki", ["audit", "verify", "--checkpoints", file], environment: env)
        #expect(clean == 0 && cleanOutput.contains("1 checkpoints match"), "\(cleanOutput)")
        try await conn.run { conn throws in
            try conn.execute("SET ROLE koki_audit")
            defer { try? conn.execute("RESET ROLE") }
            if kind == "truncated" {
                try conn.execute("DELETE FROM audit_log WHERE seq >= 7")
            } else {
                try conn.execute("UPDATE audit_log SET destination = 'municipal-tax' WHERE seq = 5")
                for seq in 5...12 {
                    try conn.execute("""
                        UPDATE audit_log a SET prev_hash = p.hash FROM audit_log p WHERE a.seq = \(seq) AND p.seq = \(seq - 1)
                        """)
                    try conn.execute("UPDATE audit_log a SET hash = audit_hash(a.prev_hash, a) WHERE a.seq = \(seq)")
                }
            }
        }
        let (alone, _) = try await runCommand("koki", ["audit", "verify"], environment: env)
        #expect(alone == 0, "the chain alone looks whole")
        let (anchored, output) = try await runCommand("koki", ["audit", "verify", "--checkpoints", file], environment: env)
        #expect(anchored != 0 && output.contains("does not match its checkpoints"), "\(output)")
    }

    /// H7: the relay may only append through audit_append (which computes seq, time and hash);
    /// a temporary table shadowing audit_log does not fool the guard; TRUNCATE is refused.
    @Test func theLogCannotBeForgedShadowedOrTruncated() async throws {
        let conn = try await PostgresConnection.connect(try await MigratedDatabase.create())
        try await conn.run { conn throws in
            func refused(_ role: String?, _ sql: String, setup: [String] = []) -> Bool {
                defer { try? conn.execute("RESET ROLE"); try? conn.execute("RESET search_path") }
                do {
                    if let role { try conn.execute(SQL(unsafeSQL: "SET ROLE \(role)")) }
                    for statement in setup { try conn.executeScript(unsafeSQL: statement) }
                    try conn.executeScript(unsafeSQL: sql)
                    return false
                } catch let error as PostgresError {
                    return error.sqlState == "42501"
                } catch {
                    return false
                }
            }
            // The relay appends through the function…
            try conn.execute("SET ROLE koki_relay")
            _ = try conn.query("""
                SELECT audit_append(ARRAY['koiki'], ARRAY['e1'], ARRAY['koiki.receipt'], ARRAY['0000000001'],
                                    ARRAY['["atenaNo"]'::jsonb], ARRAY['basis'], ARRAY['["0000000001"]'::jsonb], 'relay')
                """)
            try conn.execute("RESET ROLE")
            // … and cannot insert a row of its own making.
            #expect(refused("koki_relay", """
                INSERT INTO audit_log SELECT 2, destination, 'forged', event_type, atena_no, fields, legal_basis, published_at,
                                             relay_instance, hash, hash FROM audit_log
                """))
            let role = "koki_someone_\(UInt32.random(in: 0...UInt32.max))"
            try conn.execute(SQL(unsafeSQL: "CREATE ROLE \(role)"))
            try conn.execute(SQL(unsafeSQL: "GRANT SELECT, UPDATE, DELETE, TRUNCATE ON audit_log TO \(role)"))
            try conn.execute(SQL(unsafeSQL: "GRANT TEMP ON DATABASE \(SQL.quoteIdentifier(try conn.query("SELECT current_database()")[0].decode(String.self, at: 0))) TO \(role)"))
            #expect(refused(role, "UPDATE public.audit_log SET destination = 'x'",
                            setup: ["CREATE TEMP TABLE audit_log (x int)", "SET search_path = pg_temp, public"]),
                    "a temporary audit_log does not make the role its owner")
            #expect(refused(role, "TRUNCATE public.audit_log"))
            #expect(try conn.count("SELECT count(*) FROM public.audit_log") == 1)
        }
    }

    /// The held metric's label takes one of a few codes: every reason's sentence (with or without
    /// a detail after it) gives its own code, and a text none of them begins gives `other`.
    @Test func everyHoldReasonHasItsOwnCode() {
        #expect(Set(HoldReason.allCases.map(\.rawValue)).count == HoldReason.allCases.count)
        for reason in HoldReason.allCases {
            #expect(HoldReason.code(of: reason.text) == reason.rawValue, "\(reason)")
            #expect(HoldReason.code(of: reason.text + ": a detail") == reason.rawValue, "\(reason)")
            for other in HoldReason.allCases where other != reason {
                #expect(!other.text.hasPrefix(reason.text), "\(reason) would be read as \(other)'s code")
            }
        }
        #expect(HoldReason.code(of: "something else") == "other")
        guard case .hold(let reason) = PublishDecision.hold(.myNumberUnopened, "sealed under key 'k9', which the keyring does not hold") else {
            Issue.record("not held"); return
        }
        #expect(HoldReason.code(of: reason) == "mynumber-unopened")
    }
}
