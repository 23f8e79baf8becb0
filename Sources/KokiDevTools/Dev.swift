import ArgumentParser
import Foundation
import Kafka
import KokiBase
import KokiCommands
import KokiEvents
import KokiSecrets
import KokiStore
import KokiSynth
import Postgres
import Transfer

/// `koki-dev dev` — the whole of koki on one machine, playing a synthetic year (the README's first
/// command runs it through scripts/dev, which installs what is missing and starts PostgreSQL).
struct Dev: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run every worker and the relay on a mock Kafka cluster, play a synthetic city's year through the topics, print the year's summary.",
        discussion: """
            Needs KOKI_DATABASE_URL (scripts/dev starts a throwaway PostgreSQL). Hosts the mock Kafka cluster \
            in-process, migrates, starts koki-resident-worker, koki-tax-worker, koki-payment-worker and koki-relay \
            (built next to koki) with their health ports, plays the 年度 day by day and prints what it came to; \
            then keeps running until Ctrl-C, or exits with --exit-when-done (status 1 if anything was dead-lettered, \
            held, or failed to verify).
            """)

    @Option(help: "Residents of the synthetic city.") var residents = 20_000
    @Option(help: "Seed of the synthetic city (the same seed, the same city).") var seed: UInt64 = 1
    @Option(help: "The (first) 年度 to play (1 April to 31 March).") var fiscalYear = 2026
    @Option(help: "How many 年度 to play, one after the other (2 exercises the 仮徴収 of a second year).") var years = 1
    @Option(help: "Health ports: the relay on this port, the resident, tax and payment workers on the next three (0: any free ports).")
    var basePort = 9110
    @Option(help: "Directory for the children's logs (default: a new temporary directory).") var logDir: String?
    @Flag(help: "Exit when the year is played and summarised, instead of running until Ctrl-C.") var exitWhenDone = false
    @Option(help: "Also write the summary as JSON to this file (for machines).") var summaryJson: String?

    func validate() throws {
        guard (100...2_000_000).contains(residents) else { throw ValidationError("--residents must be between 100 and 2,000,000") }
        guard basePort == 0 || (1024...65_000).contains(basePort) else { throw ValidationError("--base-port must be 0 or 1024–65000") }
        guard (1...3).contains(years) else { throw ValidationError("--years must be 1, 2 or 3") }
    }

    mutating func run() async throws {
        let stop = StopRequest()
        let env = ProcessInfo.processInfo.environment
        guard let databaseURL = env["KOKI_DATABASE_URL"], !databaseURL.isEmpty else {
            throw fail("KOKI_DATABASE_URL is not set (scripts/dev starts a throwaway PostgreSQL and sets it)")
        }
        let logs = URL(fileURLWithPath: logDir ?? NSTemporaryDirectory() + "koki-dev-\(getpid())")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        var childEnv: [String: String] = [:]
        if try keyOrFail({ try MyNumberIntake.fromEnvironment(env) }) == nil {
            // Throwaway 個人番号 keys for a throwaway city (each child gets all three; a deployment
            // gives each component only its own).
            for (variable, path) in try throwawayMyNumberKeys(in: logs.appendingPathComponent("keys"), id: "dev") {
                childEnv[variable] = path
                setenv(variable, path, 1)
            }
        }

        if (env["KOKI_DLQ_PUBLIC_KEY"] ?? "").isEmpty {
            // A throwaway dead-letter key pair: the workers seal to the public key; the private key
            // file beside the logs is what `koki dlq show --payload` and `koki dlq replay` open with.
            let file = logs.appendingPathComponent("dlq-private-key")
            let (privateKey, publicKey) = DeadLetterSeal.generate()
            try? FileManager.default.removeItem(at: file)
            FileManager.default.createFile(atPath: file.path, contents: Data(privateKey.utf8), attributes: [.posixPermissions: 0o600])
            childEnv["KOKI_DLQ_PUBLIC_KEY"] = publicKey
            setenv("KOKI_DLQ_PRIVATE_KEY_FILE", file.path, 1)
        }

        // A throwaway key for the transfer log's MACs: the relay signs each row, the summary checks them.
        if (env["KOKI_AUDIT_MAC_KEY_FILE"] ?? "").isEmpty {
            let file = logs.appendingPathComponent("audit-mac-key")
            try? FileManager.default.removeItem(at: file)
            FileManager.default.createFile(atPath: file.path, contents: Data((AuditMacKey.generate() + "\n").utf8),
                                           attributes: [.posixPermissions: 0o600])
            childEnv["KOKI_AUDIT_MAC_KEY_FILE"] = file.path
        }
        let macKey = try (childEnv["KOKI_AUDIT_MAC_KEY_FILE"] ?? env["KOKI_AUDIT_MAC_KEY_FILE"])
            .map { try AuditMacKey.load($0, variable: "KOKI_AUDIT_MAC_KEY_FILE") }

        // The store, migrated.
        let conn: PostgresConnection
        do {
            conn = try await PostgresConnection.connect(databaseURL)
            let migrator = try Migrator(directory: URL(fileURLWithPath: env["KOKI_MIGRATIONS_DIR"] ?? "migrations"))
            let intake = try MyNumberIntake.fromEnvironment()
            let applied = try await conn.run {
                try migrator.apply(on: $0, after: [8: { try MyNumberSealing.sealPlaintext(on: $0, intake: intake) }])
            }
            say("koki dev: database migrated (\(applied.count) applied, \(migrator.migrations.count) in all)")
            // The synthetic city's 年度 may have rates the union has not decided (R8): the 本算定 runs on them, on the record.
            let played = fiscalYear..<(fiscalYear + years)
            try await conn.run {
                for year in played {
                    if let rates = try TaxStore($0).rates(for: year), rates.provisional, try !TaxStore($0).provisionalRatesApproved(fiscalYear: year) {
                        try TaxStore($0).approveProvisionalRates(fiscalYear: year, reason: "koki dev: a synthetic 年度 on provisional rates")
                    }
                }
            }
        } catch let error as PostgresError {
            throw fail([error.description, error.serverMessage].compactMap { $0 }.joined(separator: ": "))
        }

        // The mock cluster, in this process.
        let cluster = try MockKafkaCluster(brokers: 3)
        try cluster.createTopics(Topics.all.map { NewTopic(name: $0.name, partitions: $0.partitions, replicationFactor: 3) })
        say("koki dev: mock Kafka cluster at \(cluster.bootstrapServers) (\(Topics.all.count) topics)")

        // The workers and the relay.
        let bin = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let supervisor = Supervisor(binDirectory: bin, logDirectory: logs)
        childEnv["KOKI_DATABASE_URL"] = databaseURL
        childEnv["KOKI_KAFKA_BROKERS"] = cluster.bootstrapServers
        // The mock cluster answers a fetch only when fetch.wait.max.ms runs out: keep it short.
        childEnv["KOKI_KAFKA_PROPERTIES"] = env["KOKI_KAFKA_PROPERTIES"]
            ?? "session.timeout.ms=6000;heartbeat.interval.ms=1000;fetch.wait.max.ms=10"
        childEnv["KOKI_BATCH_MAX_WAIT_MS"] = env["KOKI_BATCH_MAX_WAIT_MS"] ?? "20"
        // The synthetic year may lie ahead of the wall clock: its last day is the latest business day.
        childEnv["KOKI_CLOCK_LATEST"] = env["KOKI_CLOCK_LATEST"] ?? "\(fiscalYear + years)-03-31"
        let names = ["koki-relay", "koki-resident-worker", "koki-tax-worker", "koki-payment-worker"]
        let ports = basePort == 0 ? names.map { _ in Self.freePort() } : names.indices.map { basePort + $0 }
        defer { supervisor.stopAll() }
        do {
            for (name, port) in zip(names, ports) { try supervisor.start(name, port: port, environment: childEnv) }
            try await supervisor.waitReady(timeout: .seconds(120))
        } catch let error as SupervisorError {
            throw fail(error.description)
        }
        for child in supervisor.children {
            say("  \(child.name.padding(toLength: 22, withPad: " ", startingAt: 0)) http://127.0.0.1:\(child.port)/readyz  log \(child.log)")
        }

        // The year.
        var options = SyntheticCity.Options()
        options.residents = residents
        options.seed = seed
        options.fiscalYear = fiscalYear
        options.years = years
        let began = ContinuousClock.now
        let city = SyntheticCity(options)
        say("koki dev: synthetic city of \(residents) residents (seed \(seed)): \(city.events.count) upstream events for 年度 "
            + (years == 1 ? "\(fiscalYear)" : "\(fiscalYear)–\(fiscalYear + years - 1)"))
        let producer = try KafkaProducer(config: cluster.config(clientID: "koki-dev"))
        let interactive = isatty(2) == 1
        let player = DevPlayer(city: city, producer: producer, conn: conn, supervisor: supervisor, stop: stop) { line, milestone in
            if interactive {
                FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
            } else if milestone {
                FileHandle.standardError.write(Data("\(line)\n".utf8))
            }
        }
        let last: LocalDate
        do {
            last = try await player.play()
        } catch let error as SupervisorError {
            throw fail(error.description)
        }
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
        let elapsed = ContinuousClock.now - began
        try await producer.flush(timeout: .seconds(10))

        // The last 年度 played (with more than one, the one whose 仮徴収 carried the year before's).
        let year = options.fiscalYear + options.years - 1
        let summary = try await conn.run { try CitySummary.load(fiscalYear: year, asOf: last, on: $0) }
        let ledger = try await conn.run { try LedgerVerify.run(on: $0) }
        let audit = try await conn.run { conn -> (rows: Int, problem: String?) in
            let chain = try AuditLog.verify(on: conn)
            guard chain.problem == nil, let macKey else { return chain }
            return (chain.rows, try AuditLog.verifyMacs(on: conn) { [macKey.mac(seq: $0, hash: $1)] }.problem.map { "MACs: \($0)" })
        }
        print(DevReport.text(summary, sent: player.sent, elapsed: elapsed, ledgerProblems: ledger.problems.map { "\($0)" },
                             auditRows: audit.rows, auditProblem: audit.problem))
        fflush(nil)
        if let summaryJson {
            let data = try DevReport.json(summary, ledgerBalanced: ledger.problems.isEmpty, auditIntact: audit.problem == nil)
            try data.write(to: URL(fileURLWithPath: summaryJson))
        }
        let healthy = summary.deadLetters.isEmpty && summary.held.isEmpty && ledger.problems.isEmpty && audit.problem == nil
        if exitWhenDone || stop.isRequested {
            supervisor.stopAll()
            if !healthy { throw ExitCode(1) }
            return
        }
        say("koki dev: the year is done; koki keeps running (health and metrics on the ports above). Ctrl-C stops everything.")
        say("  KOKI_DATABASE_URL=\(databaseURL)  KOKI_KAFKA_BROKERS=\(cluster.bootstrapServers)")
        await stop.wait()
        say("koki dev: stopping")
        supervisor.stopAll()
        withExtendedLifetime(cluster) {}
    }

    func say(_ line: String) {
        print(line)
        fflush(nil)
    }

    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// The year's summary as printed by `koki-dev dev`.
enum DevReport {
    /// The summary for machines (`--summary-json`): the same figures, keyed.
    static func json(_ s: CitySummary, ledgerBalanced: Bool, auditIntact: Bool) throws -> Data {
        func lines(_ list: [CitySummary.Line]) -> [[String: Any]] {
            list.map { l in ["label": l.label, "count": l.count] .merging(l.amount.map { ["amount": $0] } ?? [:]) { a, _ in a } }
        }
        let object: [String: Any] = [
            "fiscalYear": s.fiscalYear, "asOf": s.asOf.description, "insured": s.insured,
            "specialCollection": [
                "persons": s.pensionPersons, "installments": s.specialCollection.count, "amount": s.specialCollection.amount ?? 0,
                "interimPersons": s.interimPersons,
                "requests": ["sent": s.requestsSent, "accepted": s.requestsAccepted, "refused": s.requestsRefused],
            ] as [String: Any],
            "billed": lines(s.billedByMethod), "chargedDue": s.chargedDue, "collected": s.collected,
            "dunning": ["ordinary": s.dunningOrdinary, "pension": s.dunningPension], "reminders": s.reminders,
            "lateFees": ["count": s.lateFeesCharged.count, "amount": s.lateFeesCharged.amount ?? 0],
            "refunds": ["count": s.refunds.count, "amount": s.refunds.amount ?? 0],
            "appropriations": ["count": s.appropriations.count, "amount": s.appropriations.amount ?? 0],
            "deadLetters": s.deadLetters.reduce(0) { $0 + $1.count }, "held": s.held.reduce(0) { $0 + $1.count },
            "transfers": lines(s.transfers), "discrepanciesOpen": s.discrepanciesOpen.reduce(0) { $0 + $1.count },
            "ledgerBalanced": ledgerBalanced, "auditChainIntact": auditIntact,
        ]
        return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    }

    static func yen(_ v: Int) -> String {
        let digits = String(abs(v))
        var out = ""
        for (i, c) in digits.reversed().enumerated() {
            if i > 0 && i % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (v < 0 ? "-" : "") + String(out.reversed()) + "円"
    }

    static func text(_ s: CitySummary, sent: [String: Int], elapsed: Duration, ledgerProblems: [String], auditRows: Int,
                     auditProblem: String?) -> String {
        var lines: [String] = []
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        lines.append("== 後期高齢者医療 年度 \(s.fiscalYear) — synthetic city, played to \(s.asOf) in \(String(format: "%.0f", seconds)) s ==")
        lines.append("upstream events: " + sent.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        lines.append("住民（在住）　\(s.livingHere)")
        lines.append("被保険者（\(s.asOf) 現在）　\(s.insuredByReason.reduce(0) { $0 + $1.count })")
        for l in s.insuredByReason { lines.append("  取得事由 \(QualificationReason.label(l.label))　\(l.count)") }
        for l in s.lostByReason { lines.append("  年度中の喪失 \(QualificationReason.label(l.label))　\(l.count)") }
        let assessed = s.premiumsByReduction.reduce(0) { $0 + $1.count }
        let total = s.premiumsByReduction.reduce(0) { $0 + ($1.amount ?? 0) }
        lines.append("賦課　\(assessed) 人　保険料 \(yen(total))　平均 \(yen(assessed == 0 ? 0 : total / assessed))")
        for l in s.premiumsByReduction {
            lines.append("  均等割軽減 \(l.label == "none" ? "なし" : l.label.prefix(1) + "割")　\(l.count) 人　\(yen(l.amount ?? 0))")
        }
        lines.append("  被扶養者軽減　\(s.formerDependents) 人")
        for l in s.billedByMethod {
            lines.append("期割 \(l.label == "ordinary" ? "普通徴収" : "特別徴収")　\(l.count) 期　\(yen(l.amount ?? 0))")
        }
        let share = s.insured == 0 ? 0 : Double(s.pensionPersons) / Double(s.insured) * 100
        lines.append("特別徴収　\(s.pensionPersons) 人（賦課の \(String(format: "%.1f", share)) %）　\(s.specialCollection.count) 期　"
                     + yen(s.specialCollection.amount ?? 0))
        lines.append("  うち仮徴収（4・6・8月）から　\(s.interimPersons) 人")
        lines.append("特別徴収の依頼・変更・中止（国保連経由）　送付 \(s.requestsSent) 件　受理 \(s.requestsAccepted) 件　不能 \(s.requestsRefused) 件")
        lines.append("調定（納期到来分）\(yen(s.chargedDue))　収納 \(yen(s.collected))　収納率 \(String(format: "%.1f", s.collectionRate * 100)) %")
        lines.append("督促 \(s.dunning) 件（うち \(s.fiscalYear)年度の期: 普通徴収 \(s.dunningOrdinary) 件　特別徴収 \(s.dunningPension) 件）"
                     + "　催告 \(s.reminders) 件")
        lines.append("延滞金　\(s.lateFeesCharged.count) 件 \(yen(s.lateFeesCharged.amount ?? 0))　収納 \(yen(s.lateFeesCollected))")
        lines.append("過誤納：還付決定 \(s.refunds.count) 件 \(yen(s.refunds.amount ?? 0))　還付支払 \(s.refundsPaid.count) 件 \(yen(s.refundsPaid.amount ?? 0))"
                     + "　充当 \(s.appropriations.count) 件 \(yen(s.appropriations.amount ?? 0))")
        lines.append("保留（未特定の収納）　\(s.suspenseOpen.count) 人 \(yen(s.suspenseOpen.amount ?? 0))")
        lines.append("提供（宛先・種別）　\(s.transfers.reduce(0) { $0 + $1.count }) 件")
        for l in s.transfers { lines.append("  \(l.label)　\(l.count)") }
        lines.append("保留中の提供（held）　\(s.held.reduce(0) { $0 + $1.count })")
        for l in s.held { lines.append("  \(l.label)　\(l.count)") }
        lines.append("広域連合の決定　\(s.unionDecisions.reduce(0) { $0 + $1.count }) 件")
        for l in s.unionDecisions { lines.append("  \(l.label)　\(l.count)") }
        lines.append("突合（未解決）　\(s.discrepanciesOpen.reduce(0) { $0 + $1.count }) 件（開始 \(s.discrepanciesOpened) 件）")
        for l in s.discrepanciesOpen { lines.append("  \(l.label)　\(l.count)") }
        lines.append("dead letters　\(s.deadLetters.reduce(0) { $0 + $1.count })")
        for l in s.deadLetters { lines.append("  \(l.label)　\(l.count)") }
        lines.append("koki ledger verify: \(ledgerProblems.isEmpty ? "balanced" : "\(ledgerProblems.count) problem(s)")")
        for problem in ledgerProblems.prefix(10) { lines.append("  \(problem)") }
        lines.append("koki audit verify: \(auditProblem.map { "broken: \($0)" } ?? "\(auditRows) rows, chain intact, MACs match")")
        return lines.joined(separator: "\n")
    }
}
