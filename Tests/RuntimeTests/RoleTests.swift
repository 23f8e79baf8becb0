import Foundation
import Postgres
import Testing
@testable import WorkerRuntime

/// Least privilege: each executable's role can do its work and nothing it should not.
@Suite("Database roles")
struct RoleTests {
    static let forbidden: [(role: String, sql: String)] = [
        ("koki_tax", "INSERT INTO ledger (atena_no, entry, amount, on_date, event_id) VALUES ('0000000001', 'payment', 1, '2026-01-01', 'x')"),
        ("koki_tax", "UPDATE receivables SET due_date = '2026-01-01'"),
        ("koki_payment", "UPDATE assessments SET premium = 0"),
        ("koki_payment", "INSERT INTO incomes (atena_no, income_year, history_no, event_id, kind, declared, total_income, total_income_for_assessment, public_pension_income, salary_income, other_income, taxable_income, resident_tax_exempt) VALUES ('1', 2025, 1, 'x', 'assessed', true, 0, 0, 0, 0, 0, 0, true)"),
        ("koki_resident", "UPDATE assessment_history SET premium = 0"),
        ("koki_resident", "SELECT count(*) FROM ledger"),
        ("koki_relay", "SELECT count(*) FROM residents"),
        ("koki_relay", "SELECT count(*) FROM resident_history"),
        ("koki_relay", "UPDATE audit_log SET destination = 'x'"),
        ("koki_admin", "UPDATE residents SET my_number_sealed = NULL"),
        ("koki_tax", "SELECT my_number_sealed FROM residents"),
        ("koki_payment", "SELECT my_number_hash FROM residents"),
        ("koki_admin", "DELETE FROM audit_log"),
        ("koki_resident", "UPDATE dead_letters SET status = 'discarded'"),
        ("koki_tax", "SELECT count(*) FROM outbox"),
        ("koki_clock", "SELECT count(*) FROM residents"),
        ("koki_clock", "INSERT INTO outbox (topic, bucket, ce_id, ce_type, headers) VALUES ('t', 0, 'x', 't', '[]')"),
        // The counter reads people's records; it reads no log, queue or dead letter and changes no record.
        ("koki_clerk", "SELECT count(*) FROM dead_letters"),
        ("koki_clerk", "SELECT count(*) FROM audit_log"),
        ("koki_clerk", "SELECT count(*) FROM access_log"),
        ("koki_clerk", "SELECT count(*) FROM outbox"),
        ("koki_clerk", "UPDATE residents SET insured = false"),
        ("koki_clerk", "UPDATE discrepancies SET koki_value = '0'"),
        ("koki_clerk", "INSERT INTO usage_stops (atena_no) VALUES ('0000000001')"),
        ("koki_clerk", "SELECT count(*) FROM transfer_rules"),
    ]

    static let allowed: [(role: String, sql: String)] = [
        ("koki_resident", "SELECT count(*) FROM residents"),
        ("koki_tax", "SELECT count(*) FROM qualification_periods"),
        ("koki_tax", "SELECT atena_no, birth_date, insured_number FROM residents"),
        ("koki_payment", "SELECT count(*) FROM installments"),
        ("koki_relay", "SELECT count(*) FROM outbox"),
        ("koki_admin", "SELECT count(*) FROM ledger"),
        ("koki_clerk", "SELECT count(*) FROM residents"),
        ("koki_clerk", "SELECT count(*) FROM ledger"),
        ("koki_clerk", "SELECT count(*) FROM pension_requests"),
        ("koki_clerk", "INSERT INTO access_log (operator, command, subject, purpose) VALUES ('c', 'person', 'person:0000000001', 'T-1')"),
        ("koki_clerk", "UPDATE discrepancies SET closed_reason = 'x' WHERE false"),
        ("koki_clock", "SELECT count(*) FROM holidays"),
        ("koki_clock", "INSERT INTO clock_schedule (id, last_published) VALUES (1, '2026-07-01') ON CONFLICT (id) DO UPDATE SET last_published = EXCLUDED.last_published"),
    ]

    @Test func eachRoleIsRefusedWhatItMustNotDo() async throws {
        let url = try await MigratedDatabase.create()
        let conn = try await PostgresConnection.connect(url)
        try await conn.run { conn in
            for (role, sql) in Self.forbidden {
                try conn.execute(SQL(unsafeSQL: "SET ROLE \(role)"))
                defer { try? conn.execute("RESET ROLE") }
                do {
                    try conn.execute(SQL(unsafeSQL: sql))
                    Issue.record("\(role) was allowed: \(sql)")
                } catch let error as PostgresError {
                    #expect(error.sqlState == "42501", "\(role): \(sql) failed with \(error.sqlState ?? "-") instead of a permission error")
                }
            }
            for (role, sql) in Self.allowed {
                try conn.execute(SQL(unsafeSQL: "SET ROLE \(role)"))
                defer { try? conn.execute("RESET ROLE") }
                try conn.execute(SQL(unsafeSQL: sql))
            }
        }
    }

    /// The CLI works as koki_clerk for the counter's commands and as koki_admin for the rest: a login
    /// that is only a clerk reads a person (and the read is logged under its own name), and is
    /// refused the operators' commands before anything is read.
    @Test func theCounterCommandsWorkAsTheClerk() async throws {
        let url = try await MigratedDatabase.create()
        let login = "clerk_\(UInt32.random(in: 0...UInt32.max))"
        let admin = try await PostgresConnection.connect(url)
        try await admin.run { conn in
            try conn.execute(SQL(unsafeSQL: "CREATE ROLE \(login) LOGIN"))
            try conn.execute(SQL(unsafeSQL: "GRANT koki_clerk TO \(login)"))
        }
        let env = ["KOKI_DATABASE_URL": url.replacingOccurrences(of: "://postgres@", with: "://\(login)@")]
        let (person, personOutput) = try await runCommand("koki", ["person", "0000000001", "--purpose", "T-1"], environment: env)
        #expect(person != 0 && personOutput.contains("no person with 宛名番号 0000000001"), "\(personOutput)")
        #expect(try await admin.run { try $0.count("SELECT count(*) FROM access_log WHERE session_login = \(login)") } == 1)
        let (reconcile, reconcileOutput) = try await runCommand("koki", ["reconcile", "--purpose", "R-1"], environment: env)
        #expect(reconcile == 0 && reconcileOutput.contains("open: none"), "\(reconcileOutput)")
        for command in [["dlq", "list"], ["audit", "verify"], ["policy", "show"]] {
            let (status, output) = try await runCommand("koki", command, environment: env)
            #expect(status != 0 && output.contains("this database login may not work as koki_admin"), "\(command): \(output)")
        }
    }

    /// `koki rates approve-provisional` works as koki_admin, twice (the second replaces the first),
    /// and names the login that approved, not the role it worked as.
    @Test func anApprovalWorksAsTheAdminAndNamesTheLogin() async throws {
        let url = try await MigratedDatabase.create()
        let env = ["KOKI_DATABASE_URL": url]
        for reason in ["the union's rates are late", "still late"] {
            let (status, output) = try await runCommand("koki", ["rates", "approve-provisional", "--fiscal-year", "2028", "--reason", reason],
                                                        environment: env)
            #expect(status == 0, "\(output)")
        }
        let conn = try await PostgresConnection.connect(url)
        let row = try await conn.run { try $0.query("SELECT approved_by, reason FROM provisional_rate_approvals WHERE fiscal_year = 2028")[0] }
        #expect(try row.decode(String.self, at: 0) == "postgres" && row.decode(String.self, at: 1) == "still late")
    }

    @Test func workerConfigurationCarriesTheRole() throws {
        let env = ["KOKI_DATABASE_URL": "postgresql://koki@db/koki", "KOKI_KAFKA_BROKERS": "k:9092"]
        let config = try WorkerConfig.fromEnvironment(env, name: "koki-tax-worker", defaultHTTPPort: 0, defaultRole: "koki_tax")
        let timeouts = "connect_timeout=10&keepalives=1&keepalives_idle=30&keepalives_interval=10&keepalives_count=3"
            + "&tcp_user_timeout=60000"
        let session = "-c%20lock_timeout%3D20000%20-c%20statement_timeout%3D1800000%20-c%20idle_in_transaction_session_timeout%3D600000"
        #expect(config.databaseURL == "postgresql://koki@db/koki?\(timeouts)&options=-c%20role%3Dkoki_tax%20\(session)")
        var none = env
        none["KOKI_DB_ROLE"] = "none"
        #expect(try WorkerConfig.fromEnvironment(none, name: "x", defaultHTTPPort: 0, defaultRole: "koki_tax").databaseURL
                == "postgresql://koki@db/koki?\(timeouts)&options=\(session)")
        var bad = env
        bad["KOKI_DB_ROLE"] = "Robert'); DROP"
        #expect(throws: (any Error).self) { try WorkerConfig.fromEnvironment(bad, name: "x", defaultHTTPPort: 0) }
        var zero = env
        zero["KOKI_DB_LOCK_TIMEOUT_MS"] = "0"
        #expect(throws: (any Error).self) { try WorkerConfig.fromEnvironment(zero, name: "x", defaultHTTPPort: 0) }
    }

    /// M4: the timeouts reach the session, in both forms of conninfo, with the role.
    @Test func theDatabaseTimeoutsReachTheSession() async throws {
        let url = try await MigratedDatabase.create()
        var timeouts = DatabaseTimeouts()
        timeouts.lockMilliseconds = 300
        timeouts.statementMilliseconds = 45_000
        let keywords = url.replacingOccurrences(of: "postgresql://postgres@", with: "user=postgres host=")
            .replacingOccurrences(of: ":", with: " port=").replacingOccurrences(of: "/", with: " dbname=")
        for base in [url, keywords] {
            let conn = try await PostgresConnection.connect(PostgresConnection.conninfo(base, role: "koki_tax", timeouts: timeouts))
            let shown = try await conn.run { conn in
                try conn.query("""
                    SELECT current_setting('lock_timeout'), current_setting('statement_timeout'),
                           current_setting('idle_in_transaction_session_timeout'), current_user::text
                    """)[0]
            }
            #expect(try shown.decode(String.self, at: 0) == "300ms")
            #expect(try shown.decode(String.self, at: 1) == "45s")
            #expect(try shown.decode(String.self, at: 2) == "10min")
            #expect(try shown.decode(String.self, at: 3) == "koki_tax")
        }
    }

    @Test func executablesConnectAsTheirRole() {
        #expect(PostgresConnection.conninfo("postgresql://u@h:5432/db", role: "koki_tax") == "postgresql://u@h:5432/db?options=-c%20role%3Dkoki_tax")
        #expect(PostgresConnection.conninfo("host=h dbname=db", role: "koki_tax") == "host=h dbname=db options='-c role=koki_tax'")
        #expect(PostgresConnection.isPlainRoleName("koki_relay") && !PostgresConnection.isPlainRoleName("x; DROP TABLE y"))
    }

    /// A command that cannot reach the database says why, as libpq does (the login refused, or
    /// the host and port): a wrong login must not read as an outage (ecosystem review §3.3).
    @Test func aCommandNamesWhyTheDatabaseRefusedIt() async throws {
        let server = try #require(URLComponents(string: try Env.require("KOKI_TEST_DATABASE_URL")))
        var wrongLogin = server
        wrongLogin.user = "no_such_login"
        let (refused, refusedText) = try await runCommand("koki", ["person", "0000000001", "--purpose", "T-1"],
                                                          environment: ["KOKI_DATABASE_URL": wrongLogin.string!])
        #expect(refused != 0 && refusedText.contains("no_such_login"), "\(refusedText)")
        var closed = server
        closed.port = 1
        let (unreachable, unreachableText) = try await runCommand("koki", ["person", "0000000001", "--purpose", "T-1"],
                                                                  environment: ["KOKI_DATABASE_URL": closed.string!])
        #expect(unreachable != 0 && unreachableText.contains("port 1"), "\(unreachableText)")
    }
}
