import Foundation
import Postgres
import Testing

/// The README's main command, small: `koki-dev dev --exit-when-done` plays a synthetic year through
/// every worker and the relay and prints the summary; the synthetic data is valid, so nothing is
/// dead-lettered or held, the ledger balances and the transfer log's chain is intact.
@Suite("koki dev, a small synthetic year", .serialized)
struct DevTests {
    /// Plays `koki-dev dev --exit-when-done` with `arguments` on a database of its own; its logs and
    /// `summary.json` go to `logs`.
    func play(_ arguments: [String], environment: [String: String] = [:]) async throws
        -> (status: Int32, output: String, url: String, logs: URL) {
        let server = try Env.require("KOKI_TEST_DATABASE_URL")
        let name = "dev_\(UInt64.random(in: 0...UInt64.max))"
        let admin = try await PostgresConnection.connect(server)
        try await admin.run { try $0.executeScript(unsafeSQL: "CREATE DATABASE \(name)") }
        let url = String(server[...server.lastIndex(of: "/")!]) + name
        let logs = FileManager.default.temporaryDirectory.appendingPathComponent("koki-dev-test-\(UUID().uuidString)")
        let (status, output) = try await runCommand(
            "koki-dev", ["dev"] + arguments + ["--exit-when-done", "--base-port", "0", "--log-dir", logs.path,
                                           "--summary-json", logs.appendingPathComponent("summary.json").path],
            environment: ["KOKI_DATABASE_URL": url, "KOKI_MIGRATIONS_DIR": Env.repoRoot.appendingPathComponent("migrations").path]
                .merging(environment) { $1 },
            timeout: .seconds(1200))
        return (status, output, url, logs)
    }

    @Test func aSmallCityPlaysAWholeYear() async throws {
        let (status, output, url, logs) = try await play(["--residents", "1500", "--seed", "7"])
        #expect(status == 0, "\(output.suffix(4000))")
        for line in ["被保険者（2027-03-31 現在）", "賦課", "期割 普通徴収", "収納率", "督促", "延滞金", "提供（宛先・種別）",
                     "koiki  koiki.qualification-acquired", "koiki  koiki.assessment", "koiki  koiki.receipt",
                     "municipal-tax  municipal-tax.premiums-paid", "dead letters　0", "保留中の提供（held）　0",
                     "koki ledger verify: balanced", "chain intact", "広域連合の決定", "assessment-decided", "qualification-decided",
                     "突合（未解決）", "期割 特別徴収", "特別徴収の依頼・変更・中止（国保連経由）", "kokuhoren  kokuhoren.pension-request",
                     "特別徴収 0 件）"] {
            #expect(output.contains(line), "the summary shows \(line)")
        }
        // The summary for machines: a first year already deducts from pensions from October (the 依頼
        // sent at the 本算定), the 年金保険者 answered, refusing a few; no pension 期 was dunned.
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: logs.appendingPathComponent("summary.json"))) as? [String: Any]
        let special = summary?["specialCollection"] as? [String: Any]
        let requests = special?["requests"] as? [String: Int]
        let insured = summary?["insured"] as? Int ?? 0, persons = special?["persons"] as? Int ?? 0
        #expect(insured > 100 && persons * 2 > insured, "most insured pay through their pension: \(persons) of \(insured)")
        #expect((requests?["sent"] ?? 0) > 50 && (requests?["accepted"] ?? 0) > 50 && (requests?["refused"] ?? 0) > 0, "\(String(describing: requests))")
        #expect((summary?["dunning"] as? [String: Int])?["pension"] == 0 && ((summary?["dunning"] as? [String: Int])?["ordinary"] ?? 0) > 0)
        #expect(summary?["deadLetters"] as? Int == 0 && summary?["held"] as? Int == 0)
        #expect(summary?["ledgerBalanced"] as? Bool == true && summary?["auditChainIntact"] as? Bool == true)
        // The year's events reached every worker: the store holds a year of each.
        let conn = try await PostgresConnection.connect(url)
        let counts = try await conn.run { conn in
            try conn.query("""
                SELECT (SELECT count(*) FROM qualification_periods), (SELECT count(*) FROM assessments WHERE fiscal_year = 2026),
                       (SELECT count(*) FROM payments), (SELECT count(*) FROM ledger WHERE entry = 'dunning'),
                       (SELECT count(*) FROM inbox WHERE ce_type = 'clock.business-day' AND consumer_group = 'koki-tax-worker'),
                       (SELECT count(*) FROM payments WHERE kind = 'cvs-preliminary'),
                       (SELECT count(*) FROM payment_method_changes)
                """)[0]
        }
        #expect(try counts.decode(Int.self, at: 5) > 100, "convenience-store payments come as 速報, then 確報")
        #expect(try counts.decode(Int.self, at: 6) > 0, "some move to 口座振替 on request")
        #expect(try counts.decode(Int.self, at: 0) > 100 && (try counts.decode(Int.self, at: 1)) > 100)
        #expect(try counts.decode(Int.self, at: 2) > 500 && (try counts.decode(Int.self, at: 3)) > 0)
        #expect(try counts.decode(Int.self, at: 4) == 242, "every business day of 年度 2026, holidays and 年末年始 skipped")
        // The union's side was played: its decisions govern billing, and some disagree (突合).
        let union = try await conn.run { conn in
            try conn.query("""
                SELECT (SELECT count(*) FROM union_assessments WHERE applied), (SELECT count(*) FROM union_qualifications),
                       (SELECT count(*) FROM installment_plans WHERE current AND basis = 'union'),
                       (SELECT count(*) FROM discrepancies WHERE kind = 'annual-premium'),
                       (SELECT count(*) FROM discrepancies WHERE kind = 'qualification')
                """)[0]
        }
        #expect(try union.decode(Int.self, at: 0) > 100 && (try union.decode(Int.self, at: 1)) > 100)
        #expect(try union.decode(Int.self, at: 2) > 100)
        #expect(try union.decode(Int.self, at: 3) > 0 && (try union.decode(Int.self, at: 4)) > 0, "the queue is exercised")
        // And no personal data in any process's log.
        for file in (try? FileManager.default.contentsOfDirectory(atPath: logs.path)) ?? [] where file.hasSuffix(".log") {
            let text = (try? String(contentsOf: logs.appendingPathComponent(file), encoding: .utf8)) ?? ""
            for finding in LogScan.findings(in: text, log: file) { Issue.record("personal data in a log: \(finding)") }
        }
    }

    /// `koki-dev dev --years 2`: the second 年度 starts with 仮徴収 for whoever's pension paid last
    /// February (and a sixth of last year for a new start), so most of it is collected through
    /// pensions; no pension 期 is ever dunned, and the play ends clean.
    @Test func twoYearsExerciseTheInterimCollection() async throws {
        let (status, output, url, logs) = try await play(["--residents", "800", "--seed", "11", "--years", "2"])
        let json = logs.appendingPathComponent("summary.json")
        #expect(status == 0, "\(output.suffix(4000))")
        #expect(output.contains("年度 2027") && output.contains("うち仮徴収（4・6・8月）から"))
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any]
        let special = summary?["specialCollection"] as? [String: Any]
        let insured = summary?["insured"] as? Int ?? 0, persons = special?["persons"] as? Int ?? 0
        #expect(summary?["fiscalYear"] as? Int == 2027)
        #expect((special?["interimPersons"] as? Int ?? 0) > 20, "\(String(describing: special))")
        #expect(persons * 100 > insured * 60, "a second year is mostly collected through pensions: \(persons) of \(insured)")
        #expect((summary?["dunning"] as? [String: Int])?["pension"] == 0)
        #expect(summary?["ledgerBalanced"] as? Bool == true && summary?["auditChainIntact"] as? Bool == true)
        let conn = try await PostgresConnection.connect(url)
        let plans = try await conn.run { conn in
            try conn.query("""
                SELECT (SELECT count(*) FROM installment_plans WHERE fiscal_year = 2027 AND basis = 'interim'),
                       (SELECT count(*) FROM ledger l JOIN receivables r ON r.id = l.receivable_id
                        WHERE r.fiscal_year = 2027 AND r.method = 'pension' AND r.installment_no = 1 AND l.entry = 'payment'),
                       (SELECT count(*) FROM pension_requests WHERE fiscal_year = 2027 AND kind = 'request'
                          AND amounts @> '[{"month": 4}]')
                """)[0]
        }
        #expect(try plans.decode(Int.self, at: 0) > 20, "仮徴収 plans from April")
        #expect(try plans.decode(Int.self, at: 1) > 20, "April's deductions paid April's 仮徴収")
        #expect(try plans.decode(Int.self, at: 2) > 0, "a new start requested by the 1/6 rule")

        // The same seed plays the same city whatever the batches: again with batches of 37 events
        // on two connections, every figure of both summaries agrees.
        let (again, againOutput, _, againLogs) = try await play(["--residents", "800", "--seed", "11", "--years", "2"],
                                                                environment: ["KOKI_BATCH_MAX_EVENTS": "37", "KOKI_DB_CONNECTIONS": "2"])
        #expect(again == 0, "\(againOutput.suffix(4000))")
        let first = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? NSDictionary
        let second = try JSONSerialization.jsonObject(with: Data(contentsOf: againLogs.appendingPathComponent("summary.json"))) as? NSDictionary
        #expect(first != nil && first == second, "\(String(describing: second))")
        #expect(Self.printedSummary(output) == Self.printedSummary(againOutput) && !Self.printedSummary(output).isEmpty)
    }

    /// The printed summary without the run's duration.
    static func printedSummary(_ output: String) -> [String] {
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let start = lines.firstIndex(where: { $0.hasPrefix("== 後期高齢者医療") }) else { return [] }
        return lines[start...].map { $0.replacing(#/ in \d+ s ==$/#, with: " ==") }
    }
}
