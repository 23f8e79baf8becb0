import Foundation
import KokiBase
import Kafka
import Postgres
import Testing

/// The runtime as operators run it: koki-sample-worker and koki-relay as child processes
/// against the mock cluster and PostgreSQL, killed, restarted and starved on purpose.
@Suite("Worker runtime processes", .serialized)
struct ProcessTests {
    @Test func crashConsistencyUnderRepeatedSigkill() async throws {
        let stack = try await Stack()
        defer { stack.stopAll() }
        var relay = try stack.startRelay()
        // Small batches, and every other life one transaction per event, so that the
        // worker is busy for a while and each kill lands in the middle of its work.
        func start(_ life: Int) throws -> ChildProcess {
            try stack.startWorker(extra: ["KOKI_BATCH_MAX_EVENTS": "100",
                                          "KOKI_TRANSACTION_PER_EVENT": life % 2 == 0 ? "true" : "false"])
        }
        var worker = try start(0)
        var total = 20_000
        try await stack.send(0..<total)
        var kills = 0
        var lastSeen = 0
        // Six kills, each in the middle of work: when a fast life nearly finishes the events,
        // more are sent, so the kills never run out of work to interrupt.
        for life in 1...12 where kills < 6 {
            let progressed = try await stack.waitUntil(.seconds(60)) {
                try await stack.count("SELECT count(*) FROM inbox") > lastSeen + 300
            }
            lastSeen = try await stack.count("SELECT count(*) FROM inbox")
            guard progressed else { break }
            if lastSeen > total - 3_000 {
                try await stack.send(total..<total + 10_000)
                total += 10_000
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...400)))
            await worker.kill()
            kills += 1
            if life == 3 { await relay.kill(); relay = try stack.startRelay() }
            worker = try start(life)
        }
        #expect(kills >= 5, "only \(kills) kills landed")
        try await stack.verifyExactlyOnce(events: total)
        #expect(worker.isRunning, "the last worker is still running:\n\(worker.log.suffix(2000))")
        withExtendedLifetime(relay) {}
    }

    @Test func aDatabaseOutageIsWaitedOutWithReadinessDown() async throws {
        let postgres = try await TemporaryPostgres.start()
        defer { postgres.stop() }
        let stack = try await Stack(databaseURL: try await MigratedDatabase.create(serverURL: postgres.url))
        defer { stack.stopAll() }
        try stack.startRelay()
        let port = freePort()
        let worker = try stack.startWorker(port: port)
        try await stack.send(0..<3000)
        #expect(try await stack.waitUntil(.seconds(60)) { httpStatus(port: port, path: "/readyz") == 200 })
        #expect(try await stack.waitUntil(.seconds(60)) { try await stack.count("SELECT count(*) FROM inbox") == 3000 })
        postgres.stop()
        try await stack.send(3000..<6000)
        let notReady = try await stack.waitUntil(.seconds(20)) { httpStatus(port: port, path: "/readyz") == 503 }
        #expect(notReady, "/readyz reports the outage")
        #expect(httpStatus(port: port, path: "/livez") == 200, "the loop itself stays alive")
        try await Task.sleep(for: .seconds(10))
        #expect(worker.isRunning)
        try postgres.restart()
        try await stack.verifyExactlyOnce(events: 6000)
        #expect(try await stack.waitUntil(.seconds(30)) { httpStatus(port: port, path: "/readyz") == 200 })
        let metrics = httpGet(port: port, path: "/metrics")?.body ?? ""
        // What this process counts as applied: every event, unless a commit landed while the
        // connection died under it — its retry then finds the offset moved and applies (and counts)
        // nothing; the store itself holds each event once (verified above).
        let applied = metrics.split(separator: "\n").first { $0.hasPrefix("koki_events_applied_total{topic=\"sample.events.v1\"} ") }
            .flatMap { Int($0.split(separator: " ").last ?? "") }
        #expect(applied.map { (3000...6000).contains($0) } == true, "\(String(describing: applied))")
        #expect(metrics.contains("koki_events_consumed_total{topic=\"sample.events.v1\"}"))
        #expect(metrics.contains("koki_batch_retries_total"))
        #expect(metrics.contains("koki_consumer_lag"))
    }

    /// What the alert rules and the dashboard (ops/) read: every process reports its build, memory
    /// and CPU; a worker its partitions; the relay the store's gauges — rows held, the oldest
    /// waiting row's age, each worker's business date behind today, open dead letters per group,
    /// the last audit verification (-1: never) — with bounded labels only.
    @Test func theOperationsGaugesAreServed() async throws {
        let stack = try await Stack()
        defer { stack.stopAll() }
        let (relayPort, workerPort) = (freePort(), freePort())
        let conn = try await PostgresConnection.connect(stack.databaseURL)
        try await conn.run { try $0.execute("INSERT INTO worker_calendars VALUES ('tax', (now() AT TIME ZONE 'Asia/Tokyo')::date - 2)") }
        try stack.startRelay(port: relayPort)
        try stack.startWorker(port: workerPort)
        try await stack.send(0..<10)
        var relay = ""
        #expect(try await stack.waitUntil(.seconds(30)) {
            relay = httpGet(port: relayPort, path: "/metrics")?.body ?? ""
            return relay.contains("koki_business_date_age_days{worker=\"tax\"}")
        }, "\(relay)")
        for line in ["koki_business_date_age_days{worker=\"tax\"} 2.0", "koki_outbox_held_rows 0.0", "koki_outbox_oldest_unpublished_seconds",
                     "koki_dead_letters_open{group=\"koki-tax-worker\"} 0.0", "koki_audit_verification_age_seconds -1.0",
                     "koki_audit_verification_failed 0.0", "koki_build_info{version=\"\(KokiVersion.string)\"} 1.0",
                     "koki_process_resident_memory_bytes", "koki_process_cpu_seconds"] {
            #expect(relay.contains(line), "the relay serves \(line)")
        }
        var worker = ""
        #expect(try await stack.waitUntil(.seconds(30)) {
            worker = httpGet(port: workerPort, path: "/metrics")?.body ?? ""
            return worker.contains("koki_partitions_assigned 4.0")
        }, "\(worker)")
        #expect(worker.contains("koki_partitions_stopped 0.0"))
    }

    /// The workers read their positions from PostgreSQL: `koki offsets set` moves one back
    /// (recorded with who and why) and a restarted worker re-reads from there, the inbox
    /// skipping what it had applied; `koki outbox discard` drops a held row, recorded without
    /// its body.
    @Test func offsetsAreSetAndHeldRowsDiscardedOnTheRecord() async throws {
        let stack = try await Stack()
        defer { stack.stopAll() }
        try stack.startRelay()
        let worker = try stack.startWorker()
        try await stack.send(0..<40)
        try await stack.verifyExactlyOnce(events: 40)
        let env = ["KOKI_DATABASE_URL": stack.databaseURL, "USER": "ops-1"]
        let (shown, table) = try await runCommand("koki", ["offsets", "show", "--group", stack.group], environment: env)
        #expect(shown == 0 && table.contains("\(stack.group)\t\(stack.input)\t0\t"), "\(table)")
        let before = try await stack.count("SELECT next_offset FROM consumer_offsets WHERE topic = \(stack.input) AND partition = 0")
        #expect(before > 0)
        worker.terminate()
        _ = await worker.waitForExit(timeout: .seconds(30))
        let (set, setOutput) = try await runCommand("koki", ["offsets", "set", "--group", stack.group, "--topic", stack.input,
                                                             "--partition", "0", "--offset", "0", "--reason", "re-read after a fix"],
                                                    environment: env)
        #expect(set == 0 && setOutput.contains("next offset \(before) → 0"), "\(setOutput)")
        #expect(try await stack.count("""
            SELECT count(*) FROM operator_actions WHERE action = 'offset-set' AND operator = 'ops-1' AND session_login = 'postgres'
              AND (detail->>'from')::bigint = \(before) AND (detail->>'to')::bigint = 0 AND reason = 're-read after a fix'
            """) == 1)
        try stack.startWorker()
        #expect(try await stack.waitUntil(.seconds(60)) {
            try await stack.count("SELECT next_offset FROM consumer_offsets WHERE topic = \(stack.input) AND partition = 0") == before
        }, "the restarted worker read partition 0 again from 0")
        try await stack.verifyExactlyOnce(events: 40)
        let (missing, missingOutput) = try await runCommand("koki", ["offsets", "set", "--group", "nobody", "--topic", stack.input,
                                                                     "--partition", "0", "--offset", "0", "--reason", "x"], environment: env)
        #expect(missing != 0 && missingOutput.contains("has no position"))

        // A held row, discarded on the record.
        let conn = try await PostgresConnection.connect(stack.databaseURL)
        let id = try await conn.run { conn in
            try conn.query("""
                INSERT INTO outbox (topic, bucket, ce_id, ce_type, headers, held_at, held_reason)
                VALUES ('clock.business-day.v1', 0, 'forged-1', 'clock.business-day', '[]', now(), 'koki publishes nothing to this topic')
                RETURNING id
                """)[0].decode(Int64.self, at: 0)
        }
        let (discarded, discardOutput) = try await runCommand("koki", ["outbox", "discard", "\(id)", "--reason", "forged row"],
                                                              environment: env)
        #expect(discarded == 0 && discardOutput.contains("discarded outbox row \(id)"), "\(discardOutput)")
        #expect(try await stack.count("SELECT count(*) FROM outbox WHERE id = \(id)") == 0)
        #expect(try await stack.count("""
            SELECT count(*) FROM operator_actions WHERE action = 'outbox-discard' AND detail->>'topic' = 'clock.business-day.v1'
            """) == 1)
        let (again, againOutput) = try await runCommand("koki", ["outbox", "discard", "\(id)", "--reason", "x"], environment: env)
        #expect(again != 0 && againOutput.contains("is not held"))
    }

    @Test func aBrokerOutageBacksUpTheRelayWhichDrainsAfter() async throws {
        let stack = try await Stack()
        defer { stack.stopAll() }
        let relay = try stack.startRelay()
        try stack.startWorker()
        try await stack.send(0..<3000)
        #expect(try await stack.waitUntil(.seconds(60)) { try await stack.count("SELECT count(*) FROM inbox") == 3000 })
        try stack.cluster.setAllBrokers(up: false)
        // Work already consumed keeps producing outbox rows the relay cannot send.
        try await Task.sleep(for: .seconds(10))
        #expect(relay.isRunning)
        try stack.cluster.setAllBrokers(up: true)
        try await stack.send(3000..<5000)
        try await stack.verifyExactlyOnce(events: 5000)
    }

    @Test func aMemberKilledMidRunHandsOverWithNothingLostOrDoubled() async throws {
        let stack = try await Stack()
        defer { stack.stopAll() }
        // Two relays share the outbox by key bucket: nothing may go out twice.
        try stack.startRelay()
        try stack.startRelay()
        let first = try stack.startWorker()
        let second = try stack.startWorker()
        try await stack.send(0..<5000)
        // Both members are working before one dies.
        try await stack.waitUntil(.seconds(60)) { try await stack.count("SELECT count(*) FROM inbox") > 500 }
        try await stack.send(5000..<8000)
        await first.kill()
        try await stack.send(8000..<10_000)
        try await stack.verifyExactlyOnce(events: 10_000, noDuplicates: true)
        #expect(second.isRunning)
        let partitionsUsed = try await stack.count("SELECT count(DISTINCT partition) FROM inbox")
        #expect(partitionsUsed == 4)
    }

    @Test func poisonIsDeadLetteredAndTheWorkerKeepsGoing() async throws {
        let stack = try await Stack()
        defer { stack.stopAll() }
        try stack.startRelay()
        let worker = try stack.startWorker()
        var messages: [OutgoingMessage] = []
        var poison = 0
        for i in 0..<5000 {
            guard i % 100 == 37 else {
                messages.append(sampleEvent(topic: stack.input, id: "e\(i)", item: "i\(i % 500)", value: i))
                continue
            }
            poison += 1
            var m = sampleEvent(topic: stack.input, id: "e\(i)", item: "i\(i % 500)", value: i)
            switch poison % 5 {
            case 0: m.value = (0..<64).map { _ in UInt8.random(in: 0...255) } + [0xff]
            case 1: m.value = Array("{\"itemId\": \"i1\", \"value\": ".utf8)
            case 2: m.value = Array("{\"itemId\": 12, \"value\": \"many\"}".utf8)
            case 3: m.headers = m.headers.filter { $0.key != "ce_type" } + [KafkaHeader("ce_type", "sample.item-deleted")]
            default: m.headers = m.headers.filter { $0.key != "ce_id" }
            }
            messages.append(m)
        }
        try await stack.send(messages)
        try await stack.verifyExactlyOnce(events: 5000, deadLetters: poison)
        #expect(worker.isRunning)
        let kinds = try await stack.db().run { conn in
            try conn.query("SELECT error_kind, count(*)::int FROM dead_letters GROUP BY 1 ORDER BY 1")
                .map { "\(try $0.decode(String.self, at: 0))=\(try $0.decode(Int.self, at: 1))" }
        }
        #expect(kinds == ["invalid-envelope=10", "invalid-json=10", "schema=10", "undecodable=10", "unknown-type=10"])
        // Every dead letter is also on the dead-letter topic, with its reason.
        let consumer = try KafkaConsumer(config: stack.cluster.config(properties: ["session.timeout.ms": "4000"]),
                                         groupID: "dlq-check")
        try consumer.subscribe([stack.input + ".dlq"])
        var dead: [ConsumedMessage] = []
        let deadline = ContinuousClock.now + .seconds(30)
        while dead.count < poison, ContinuousClock.now < deadline {
            dead += try await consumer.poll(maxMessages: 100, timeout: .milliseconds(300)).messages
        }
        try await consumer.close()
        #expect(dead.count == poison)
        #expect(dead.allSatisfy { $0.headers.text("koki_dlq_reason") != nil && $0.headers.text("koki_dlq_topic") == stack.input })
    }

    /// What an operator (or an image check) asks an executable first: its version and usage, with
    /// no environment at all; anything else on the command line is refused.
    @Test func everyExecutableAnswersVersionAndHelp() async throws {
        for name in ["koki", "koki-relay", "koki-resident-worker", "koki-tax-worker", "koki-payment-worker", "koki-sample-worker"] {
            let (version, versionOutput) = try await runCommand(name, ["--version"], environment: [:])
            #expect(version == 0 && versionOutput.contains("2026.12.07"), "\(name): \(versionOutput)")
            let (help, helpOutput) = try await runCommand(name, ["--help"], environment: [:])
            #expect(help == 0 && helpOutput.contains(name == "koki" ? "USAGE" : "Usage"), "\(name): \(helpOutput)")
        }
        let (refused, message) = try await runCommand("koki-tax-worker", ["--brokers", "x"], environment: [:])
        #expect(refused == 2 && message.contains("takes no arguments"))
    }

    @Test func sigtermDuringLoadExitsCleanlyWithinTheBudget() async throws {
        let stack = try await Stack()
        defer { stack.stopAll() }
        let worker = try stack.startWorker()
        try await stack.send(0..<10_000)
        try await stack.waitUntil(.seconds(60)) { try await stack.count("SELECT count(*) FROM inbox") > 1000 }
        let start = ContinuousClock.now
        worker.terminate()
        let status = await worker.waitForExit(timeout: .seconds(25))
        #expect(status == 0, "exit status \(String(describing: status)):\n\(worker.log.suffix(3000))")
        #expect(ContinuousClock.now - start < .seconds(25))
        #expect(worker.log.contains("leaving the group"))
        // Whatever was applied, was applied whole: state, inbox and outbox agree.
        let conn = try await stack.db()
        try await conn.run { conn throws in
            let inbox = try conn.count("SELECT count(*) FROM inbox")
            #expect(try conn.count("SELECT coalesce(sum(updates), 0)::int FROM sample_items") == inbox)
            #expect(try conn.count("SELECT count(*) FROM outbox") == inbox)
            #expect(try conn.count("SELECT coalesce(sum(next_offset), 0)::int FROM consumer_offsets") == inbox)
        }
        // A successor finishes the rest.
        try stack.startWorker()
        try stack.startRelay()
        try await stack.verifyExactlyOnce(events: 10_000)
    }

    @Test func aDeadLetterReplayedAfterItsCauseIsFixedIsAppliedOnce() async throws {
        let stack = try await Stack()
        defer { stack.stopAll() }
        let conn = try await stack.db()
        try await conn.run { try $0.executeScript(unsafeSQL: "ALTER TABLE sample_items ADD CONSTRAINT cap CHECK (value < 1000000)") }
        try stack.startRelay()
        try stack.startWorker()
        try await stack.send([sampleEvent(topic: stack.input, id: "big", item: "big", value: 2_000_000)] +
                             (0..<10).map { sampleEvent(topic: stack.input, id: "e\($0)", item: "i\($0)", value: $0) })
        #expect(try await stack.waitUntil(.seconds(60)) { try await stack.count("SELECT count(*) FROM dead_letters") == 1 })
        let id = try await conn.run { try $0.query("SELECT id::int, error_kind FROM dead_letters")[0].decode(Int.self, String.self) }
        #expect(id.1 == "store")
        // The fix: the constraint was wrong.
        try await conn.run { try $0.executeScript(unsafeSQL: "ALTER TABLE sample_items DROP CONSTRAINT cap") }
        var env = stack.environment
        env["USER"] = "tester"
        let (status, output) = try await runCommand("koki", ["dlq", "replay", String(id.0), "--note", "cap removed"], environment: env)
        #expect(status == 0, "\(output)")
        #expect(try await stack.waitUntil(.seconds(60)) {
            try await stack.count("SELECT count(*) FROM sample_items WHERE item_id = 'big' AND updates = 1") == 1
        })
        let (again, message) = try await runCommand("koki", ["dlq", "replay", String(id.0)], environment: env)
        #expect(again != 0)
        #expect(message.contains("already replayed"))
        try await Task.sleep(for: .seconds(2))
        #expect(try await stack.count("SELECT updates FROM sample_items WHERE item_id = 'big'") == 1)
        let resolved = try await conn.run { try $0.query("SELECT status, resolved_by FROM dead_letters")[0].decode(String.self, String.self) }
        #expect(resolved == ("replayed", "tester"))
        let (listStatus, listing) = try await runCommand("koki", ["dlq", "list", "--all"], environment: env)
        #expect(listStatus == 0 && listing.contains("replayed") && listing.contains("store"))
    }
}
