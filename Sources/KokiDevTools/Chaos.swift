import ArgumentParser
import Foundation
import Kafka
import KokiBase
import KokiCommands
import KokiEvents
import KokiSecrets
import KokiStore
import KokiSynth
import PaymentWorker
import Postgres
import ResidentWorker
import TaxWorker
import Transfer

/// `koki-dev chaos` — the same input twice: once clean, once while processes are killed, the
/// database and the brokers go away, and the resident worker group shrinks and grows; then
/// what came of it: nothing lost, nothing applied twice, nothing left unpublished, the ledger
/// and the transfer log verified, and the same end state as the clean run.
struct Chaos: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fault-injection run: kills, a database and a broker outage, scaling, bad input — then lost/doubled/end-state checks.",
        discussion: """
            Needs KOKI_DATABASE_URL (a server to create two databases on). The database outage needs control of that \
            server: KOKI_CHAOS_PG_BIN, KOKI_CHAOS_PG_DATA and KOKI_CHAOS_PG_OPTS (scripts/chaos sets them); without \
            them it is skipped and the report says so. Exits 1 if anything is lost, doubled or unpublished, a \
            verification fails, or the end state differs from the clean run.
            """)

    @Option(help: "Residents of the synthetic city (100,000 give about 200,000 events).") var residents = 100_000
    @Option(help: "Random SIGKILLs of workers and the relay (each restarted).") var kills = 20
    @Option(help: "Seconds the database, and then the brokers, are down.") var outage = 30
    @Option(help: "Bad events mixed into the input.") var bad = 500
    @Option(help: "Seed (input and the choice of victims).") var seed: UInt64 = 1

    mutating func run() async throws {
        // The national holidays, as the migrations hold them.
        let server = PostgresConnection.conninfo()
        let calendarDB = "koki_chaos_calendar_\(UInt32.random(in: 0...UInt32.max))"
        let holidays = try await Self.holidays(try await BenchDatabase.create(server: server, name: calendarDB))
        try await BenchDatabase.drop(server: server, name: calendarDB)
        let input = ChaosInput(residents: residents, seed: seed, bad: bad) { $0.isBusinessDay(holidays: holidays) }
        print("koki chaos: \(input.upstream.count) upstream events (\(input.badCount) bad) and \(input.clock.count) business days")
        let clean = try await ChaosRun(input: input, faults: nil, seed: seed).run()
        print("clean run: \(clean.summary)")
        let faults = ChaosRun.Faults(kills: kills, outage: .seconds(outage), postgres: PostgresControl.fromEnvironment())
        let chaos = try await ChaosRun(input: input, faults: faults, seed: seed).run()
        print("chaos run: \(chaos.summary)")
        print("")
        print(chaos.report(comparedWith: clean))
        if !chaos.passed(comparedWith: clean) { throw ExitCode(1) }
    }

    static func holidays(_ url: String) async throws -> Set<LocalDate> {
        let conn = try await PostgresConnection.connect(url)
        return try await conn.run { try TaxStore($0).holidays() }
    }
}

/// Starts and stops the PostgreSQL server the run uses (pg_ctl, as `postgres` when root).
struct PostgresControl: Sendable {
    let bin: String
    let data: String
    let options: String

    static func fromEnvironment() -> PostgresControl? {
        let env = ProcessInfo.processInfo.environment
        guard let bin = env["KOKI_CHAOS_PG_BIN"], let data = env["KOKI_CHAOS_PG_DATA"], let options = env["KOKI_CHAOS_PG_OPTS"] else {
            return nil
        }
        return PostgresControl(bin: bin, data: data, options: options)
    }

    func stop() throws { try pgctl(["-D", data, "-m", "immediate", "-w", "stop"]) }
    func start() throws { try pgctl(["-D", data, "-l", data + "/../chaos.log", "-w", "-t", "60", "-o", options, "start"]) }

    private func pgctl(_ arguments: [String]) throws {
        let asRoot = getuid() == 0
        let path = asRoot ? "/usr/sbin/runuser" : bin + "/pg_ctl"
        let argv = (asRoot ? [path, "-u", "postgres", "--", bin + "/pg_ctl"] : [path]) + arguments
        var pid: pid_t = 0
        let cargs = argv.map { strdup($0) } + [nil]
        defer { cargs.forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        guard posix_spawn(&pid, path, &actions, nil, cargs, environ) == 0 else { throw SupervisorError(description: "cannot run pg_ctl") }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        guard status == 0 else { throw SupervisorError(description: "pg_ctl \(arguments.last ?? "") failed (status \(status))") }
    }
}

/// One run of the stack over the input, with or without faults.
struct ChaosRun {
    struct Faults {
        let kills: Int
        let outage: Duration
        let postgres: PostgresControl?
    }

    struct Outcome {
        var sent: [String: Int] = [:]
        var handled: [String: [String: Int]] = [:]     // group → topic → applied + dead-lettered
        var deadLetters: [(String, Int)] = []
        var deadLetterCount = 0
        var doubled = 0
        var unpublished = 0
        var held = 0
        var ledgerProblems: [String] = []
        var auditProblem: String?
        var auditRows = 0
        var digest: [String: String] = [:]
        var faultLog: [String] = []
        /// False when the stack did not catch up before the deadline.
        var settled = true
        var seconds = 0.0

        var lost: Int {
            DevPlayer.groups.reduce(0) { total, group in
                total + group.topics.filter { $0 != Topics.residentUpdates }.reduce(0) { sum, topic in
                    sum + max(0, (sent[topic] ?? 0) - (handled[group.group]?[topic] ?? 0))
                }
            }
        }

        var summary: String {
            String(format: "%.0f s, %d events in, %d dead-lettered, %d lost, %d applied twice, %d unpublished",
                   seconds, sent.values.reduce(0, +), deadLetterCount, lost, doubled, unpublished)
        }

        func passed(comparedWith clean: Outcome) -> Bool {
            lost == 0 && doubled == 0 && unpublished == 0 && settled && held == clean.held && ledgerProblems.isEmpty && auditProblem == nil
                && digest == clean.digest
        }

        func report(comparedWith clean: Outcome) -> String {
            var lines = ["== koki chaos =="]
            lines.append("faults: " + (faultLog.isEmpty ? "none" : ""))
            lines += faultLog.map { "  \($0)" }
            lines.append("events in: \(sent.values.reduce(0, +)) (" + sent.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
                .joined(separator: ", ") + ")")
            for group in DevPlayer.groups {
                let handled = self.handled[group.group]?.values.reduce(0, +) ?? 0
                lines.append("  \(group.group): applied or dead-lettered \(handled)")
            }
            lines.append("dead-lettered: \(deadLetterCount) (clean run: \(clean.deadLetterCount))")
            lines += deadLetters.prefix(15).map { "  \($0.1)  \($0.0)" }
            lines.append("lost: \(lost)")
            lines.append("applied twice: \(doubled)")
            lines.append("outbox unpublished: \(unpublished); held by the policy: \(held) (clean run: \(clean.held))")
            lines.append("koki ledger verify: " + (ledgerProblems.isEmpty ? "balanced" : "\(ledgerProblems.count) problem(s): \(ledgerProblems.prefix(3))"))
            lines.append("koki audit verify: " + (auditProblem.map { "broken: \($0)" } ?? "\(auditRows) rows, chain intact"))
            let differing = Set(digest.keys).union(clean.digest.keys).filter { digest[$0] != clean.digest[$0] }.sorted()
            lines.append("end state vs the clean run: " + (differing.isEmpty ? "identical (\(digest.keys.sorted().joined(separator: ", ")))"
                                                                          : "DIFFERENT in \(differing.joined(separator: ", "))"))
            lines.append(passed(comparedWith: clean) ? "PASSED" : "FAILED")
            return lines.joined(separator: "\n")
        }
    }

    let input: ChaosInput
    let faults: Faults?
    let seed: UInt64

    func run() async throws -> Outcome {
        let server = PostgresConnection.conninfo()
        let tag = "\(faults == nil ? "clean" : "chaos")_\(UInt32.random(in: 0...UInt32.max))"
        let databaseURL = try await BenchDatabase.create(server: server, name: "koki_\(tag)")
        // librdkafka's mock keeps at most about 5 MB per partition (older data is dropped, like
        // retention): a topic fed up front gets enough partitions to keep all of it.
        var bytes: [String: Int] = [:]
        for message in input.upstream + input.clock { bytes[message.topic, default: 0] += (message.value?.count ?? 0) + 200 }
        let cluster = try MockKafkaCluster(brokers: 3)
        try cluster.createTopics(Topics.all.map {
            NewTopic(name: $0.name, partitions: max($0.partitions, (bytes[$0.name] ?? 0) / 3_000_000 + 1), replicationFactor: 3)
        })
        let logs = URL(fileURLWithPath: NSTemporaryDirectory() + "koki-\(tag)")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        var env = ["KOKI_DATABASE_URL": databaseURL, "KOKI_KAFKA_BROKERS": cluster.bootstrapServers, "KOKI_RETRY_MAX_MS": "1000",
                   "KOKI_KAFKA_PROPERTIES": "session.timeout.ms=6000;heartbeat.interval.ms=1000;fetch.wait.max.ms=10",
                   // The synthetic year (2026) may lie ahead of the wall clock.
                   "KOKI_CLOCK_LATEST": "2027-03-31"]
        if try MyNumberIntake.fromEnvironment() == nil { env.merge(try throwawayMyNumberKeys(in: logs, id: "chaos")) { $1 } }
        let bin = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let supervisor = Supervisor(binDirectory: bin, logDirectory: logs)
        defer { supervisor.stopAll() }
        try supervisor.start("koki-relay", port: Dev.freePort(), environment: env)
        try supervisor.start("koki-resident-worker", port: Dev.freePort(), environment: env, name: "koki-resident-worker-1")
        try supervisor.start("koki-resident-worker", port: Dev.freePort(), environment: env, name: "koki-resident-worker-2")
        try supervisor.start("koki-tax-worker", port: Dev.freePort(), environment: env)
        try supervisor.start("koki-payment-worker", port: Dev.freePort(), environment: env)
        try await supervisor.waitReady(timeout: .seconds(120))

        let producer = try KafkaProducer(config: cluster.config(clientID: "koki-chaos", properties: ["message.max.bytes": "2000000"]))
        var outcome = Outcome()
        let started = ContinuousClock.now
        let injector = faults.map { FaultInjector(faults: $0, supervisor: supervisor, cluster: cluster, seed: seed) }
        let faulting = injector.map { injector in Task { await injector.run() } }

        // Phase 1: everything upstream; phase 2: the year's business days.
        for phase in [input.upstream, input.clock] {
            for start in stride(from: 0, to: phase.count, by: 10_000) {
                let chunk = Array(phase[start..<min(phase.count, start + 10_000)])
                let results = try await producer.send(chunk)
                for (message, result) in zip(chunk, results) {
                    if case .success = result { outcome.sent[message.topic, default: 0] += 1 }
                }
            }
            if phase.first?.topic == "clock.business-day.v1" { await faulting?.value }  // every fault done before the end
            do {
                try await waitQuiet(databaseURL, sent: outcome.sent)
            } catch let error as SupervisorError {
                // Report what came of it anyway: the shortfall shows as lost.
                outcome.settled = false
                outcome.faultLog.append("did not settle: \(error)")
                break
            }
        }
        outcome.seconds = (ContinuousClock.now - started).inSeconds
        outcome.faultLog = (injector?.log ?? []) + outcome.faultLog
        try await collect(&outcome, databaseURL: databaseURL)
        return outcome
    }

    /// Until every group has handled all it was sent and the outbox is drained; tolerates the
    /// database being away (an outage in progress).
    func waitQuiet(_ databaseURL: String, sent: [String: Int], timeout: Duration = .seconds(900)) async throws {
        let deadline = ContinuousClock.now + timeout
        var lastError = ""
        while ContinuousClock.now < deadline {
            do {
                let conn = try await PostgresConnection.connect(databaseURL)
                if try await conn.run({ try StackProgress.read($0) }).settled(sent: sent) { return }
            } catch {
                lastError = "\(error)"
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw SupervisorError(description: "the stack did not catch up within \(timeout) (\(lastError))")
    }

    func collect(_ outcome: inout Outcome, databaseURL: String) async throws {
        let conn = try await PostgresConnection.connect(databaseURL)
        let progress = try await conn.run { try StackProgress.read($0) }
        outcome.handled = progress.handled
        outcome.unpublished = progress.pending
        let (deadLetters, doubled, held, digest) = try await conn.run { conn -> ([(String, Int)], Int, Int, [String: String]) in
            let dead = try conn.query("""
                SELECT consumer_group || ' ' || topic || ' — ' || error_kind || ': ' || reason, count(*)::bigint FROM dead_letters
                GROUP BY 1 ORDER BY 2 DESC, 1
                """).map { (try $0.decode(String.self, at: 0), try $0.decode(Int.self, at: 1)) }
            // The effects of one event, stored more than once.
            let doubled = try conn.query("""
                SELECT (SELECT count(*) FROM (SELECT event_id FROM resident_history GROUP BY event_id HAVING count(*) > 1) a)
                     + (SELECT count(*) FROM (SELECT event_id FROM incomes GROUP BY event_id HAVING count(*) > 1) b)
                     + (SELECT count(*) FROM (SELECT ce_id FROM inbox GROUP BY consumer_group, ce_id HAVING count(*) > 1) c)
                """)[0].decode(Int.self, at: 0)
            let held = try conn.query("SELECT count(*) FROM outbox WHERE held_at IS NOT NULL")[0].decode(Int.self, at: 0)
            return (dead, doubled, held, try Self.digest(conn))
        }
        outcome.deadLetters = deadLetters
        outcome.deadLetterCount = deadLetters.reduce(0) { $0 + $1.1 }
        outcome.doubled = doubled
        outcome.held = held
        outcome.digest = digest
        outcome.ledgerProblems = try await conn.run { try LedgerVerify.run(on: $0).problems }
        let audit = try await conn.run { try AuditLog.verify(on: $0) }
        outcome.auditRows = audit.rows
        outcome.auditProblem = audit.problem
    }

    /// The store's current facts, one hash per kind: who lives here and is insured, every
    /// qualification period, household membership, income, premium and 期割, and what is charged.
    static func digest(_ conn: PostgresConnection) throws -> [String: String] {
        let queries: [(String, SQL)] = [
            ("residents", "SELECT atena_no, household_no, lives_here, insured, insured_number, birth_date, death_date FROM residents"),
            ("qualification periods", "SELECT atena_no, acquired_on, acquisition_reason, lost_on, loss_reason FROM qualification_periods"),
            ("households", "SELECT atena_no, household_no, relationship_to_head, from_date, through_date FROM household_memberships"),
            ("incomes", "SELECT atena_no, income_year, total_income, declared FROM incomes"),
            ("premiums", "SELECT atena_no, fiscal_year, premium FROM assessments"),
            ("installments", """
                SELECT i.atena_no, i.fiscal_year, i.method, i.installment_no, i.due_date, i.amount
                FROM installments i JOIN installment_plans p USING (atena_no, fiscal_year, revision) WHERE p.current
                """),
            ("charges", """
                SELECT r.atena_no, r.fiscal_year, r.method, r.installment_no, r.kind, sum(l.amount)
                FROM receivables r JOIN ledger l ON l.receivable_id = r.id WHERE l.entry = 'charge' GROUP BY 1, 2, 3, 4, 5
                """),
        ]
        var digest: [String: String] = [:]
        for (name, sql) in queries {
            digest[name] = try conn.query("SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM (\(sql)) t")[0]
                .decode(String.self, at: 0)
        }
        return digest
    }
}

/// Injects the faults while the run goes on: SIGKILLs (each victim restarted), a database
/// outage, a broker outage, the resident group scaled from two to one and back.
final class FaultInjector: @unchecked Sendable {  // driven by one task; log read after it ends
    let faults: ChaosRun.Faults
    let supervisor: Supervisor
    let cluster: MockKafkaCluster
    var random: SeededRandom
    private(set) var log: [String] = []

    init(faults: ChaosRun.Faults, supervisor: Supervisor, cluster: MockKafkaCluster, seed: UInt64) {
        self.faults = faults
        self.supervisor = supervisor
        self.cluster = cluster
        self.random = SeededRandom(seed: seed &+ 77)
    }

    func run() async {
        let started = ContinuousClock.now
        func note(_ text: String) { log.append(String(format: "%6.1f s  ", (ContinuousClock.now - started).inSeconds) + text) }
        var scaledDown: Supervisor.Child?
        for kill in 1...max(1, faults.kills) {
            try? await Task.sleep(for: .milliseconds(Int.random(in: 800...2_000, using: &random)))
            if kill == max(1, faults.kills / 4), let child = supervisor.stop("koki-resident-worker-2", signal: SIGTERM) {
                scaledDown = child
                note("scaled the resident group from 2 to 1 (SIGTERM to koki-resident-worker-2)")
            }
            if kill == max(1, faults.kills / 3) {
                note("all mock brokers down for \(faults.outage)")
                try? cluster.setAllBrokers(up: false)
                try? await Task.sleep(for: faults.outage)
                try? cluster.setAllBrokers(up: true)
                note("brokers up again")
            }
            if kill == max(1, faults.kills / 2) {
                if let postgres = faults.postgres {
                    do {
                        try postgres.stop()
                        note("PostgreSQL stopped (immediate) for \(faults.outage)")
                        try await Task.sleep(for: faults.outage)
                        try postgres.start()
                        note("PostgreSQL started again")
                    } catch {
                        note("PostgreSQL outage failed: \(error)")
                    }
                } else {
                    note("PostgreSQL outage skipped: KOKI_CHAOS_PG_BIN/DATA/OPTS not set")
                }
            }
            if kill == max(1, (faults.kills * 3) / 4), let child = scaledDown {
                try? supervisor.restart(child)
                scaledDown = nil
                note("scaled the resident group back to 2")
            }
            guard !supervisor.children.isEmpty else { continue }
            let victim = supervisor.children[Int.random(in: 0..<supervisor.children.count, using: &random)]
            supervisor.stop(victim.name, signal: SIGKILL)
            note("SIGKILL \(victim.name) (\(kill) of \(faults.kills))")
            try? await Task.sleep(for: .milliseconds(Int.random(in: 200...1_500, using: &random)))
            try? supervisor.restart(victim)
        }
        if let child = scaledDown { try? supervisor.restart(child) }
    }
}
