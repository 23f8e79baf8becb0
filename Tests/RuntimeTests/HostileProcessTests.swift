import Foundation
import Kafka
import KokiBase
import KokiEvents
import KokiSynth
import Postgres
import Testing

/// The security review's C1, H2 and M4 and the crash-loop breaker, with the real executables:
/// one ordinary-looking event, a wrong business day or a held lock never stops koki.
@Suite("Hostile input, end to end", .serialized)
struct HostileProcessTests {
    let factory = EventFactory(source: "urn:test")

    func resident(_ atenaNo: String, born: String) -> OutgoingMessage {
        let change = ResidentChange(
            atenaNo: atenaNo, myNumber: nil, householdNo: "0000009" + atenaNo.suffix(3),
            change: .init(effectiveDate: LocalDate(iso: "2026-03-31")!, notifiedDate: LocalDate(iso: "2026-03-31")!),
            person: .init(nameKanji: "試験 花子", nameKana: "シケン ハナコ", sex: .female, birthDate: LocalDate(iso: born)!,
                          relationshipToHead: .head, residentStatus: .resident, address: ResidentWorkerTests.kawaguchi))
        return factory.resident(.corrected, change, id: "resident:\(atenaNo)")
    }

    /// C1: an open-ended 元被扶養者 date and a pension amount near Int64.max used to trap the
    /// tax worker in the July 本算定, on every restart, stopping the city's business days.
    @Test func aSentinelDateAndAHugeAmountAreDeadLetteredAndTheHonsanteiRuns() async throws {
        let stack = try await ResidentStack()
        defer { stack.stopAll() }
        try stack.start(workers: ["koki-resident-worker", "koki-tax-worker"])
        let p = "0000000301", q = "0000000302"
        try await stack.send([factory.businessDay(LocalDate(iso: "2026-04-01")!)])
        try await stack.send([resident(p, born: "1946-05-05"), resident(q, born: "1947-06-06")])
        try await stack.waitFor("two insured", "SELECT count(*) FROM qualification_periods", atLeast: 2)
        try await stack.send([
            factory.event(topic: "counter.applications.v1", type: "application.former-dependent", id: "fd-p", atenaNo: p,
                          fields: ["receivedDate": "2026-05-01", "applicationNo": "A-301", "insurerName": "協会けんぽ",
                                   "dependentUntil": "9999-12-31"]),
            factory.message(topic: "pension.deduction-targets.v1", type: PensionDeductionTarget.type, id: "pt-q", key: q,
                            body: PensionDeductionTarget(atenaNo: q, fiscalYear: 2026, pensionAnnualAmount: 2_000_000,
                                                         pensionPerPayment: 333_333, longTermCarePremiumDeducted: true,
                                                         longTermCarePremiumPerPayment: Int(Int64.max))),
        ])
        // Both groups that consume the application decide it alike; the target is the tax worker's.
        try await stack.waitFor("dead-lettered", "SELECT count(*) FROM dead_letters", atLeast: 3)
        try await stack.send([factory.businessDay(LocalDate(iso: "2026-07-01")!)])
        try await stack.waitFor("本算定 ran", "SELECT count(*) FROM assessment_runs WHERE fiscal_year = 2026")
        #expect(try await stack.count("SELECT count(*) FROM assessments WHERE fiscal_year = 2026") == 2)
        let letters = try await stack.query("SELECT consumer_group, ce_id, error_kind, reason FROM dead_letters ORDER BY 1, 2")
            .map { row in try (0..<4).map { try row.decode(String.self, at: $0) } }
        #expect(letters == [
            ["koki-resident-worker", "fd-p", "validation", "dependentUntil is out of range"],
            ["koki-tax-worker", "fd-p", "validation", "dependentUntil is out of range"],
            ["koki-tax-worker", "pt-q", "validation", "longTermCarePremiumPerPayment is out of range"],
        ])
        let running = stack.children.filter(\.isRunning).count
        #expect(running == stack.children.count, "no worker died")
        // Each dead letter has its own log line naming the event and its trace (review §3.3).
        let lines = stack.children.first { $0.name == "koki-tax-worker" }?.log.split(separator: "\n")
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String] }
            .filter { $0["message"] == "event dead-lettered" } ?? []
        #expect(Set(lines.compactMap { $0["ce_id"] }) == ["fd-p", "pt-q"], "\(lines)")
        #expect(lines.allSatisfy { $0["kind"] == "validation" && $0["offset"] != nil && $0["logger"] != nil
                                   && $0["trace_id"]?.count == 32 }, "\(lines)")
    }

    /// H2: a far-future day (a mistyped year) and one past the plausible range are refused by
    /// every worker; the calendars stay, nothing is written off, and the next real day runs.
    @Test func implausibleBusinessDaysAreRefusedByEveryWorker() async throws {
        let stack = try await ResidentStack()
        defer { stack.stopAll() }
        // The production rule: the default window, and tomorrow in Tokyo as the latest day.
        try stack.start(workers: ["koki-resident-worker", "koki-tax-worker", "koki-payment-worker"],
                        extra: ["KOKI_CLOCK_WINDOW_DAYS": "", "KOKI_CLOCK_LATEST": ""])
        try await stack.send([resident("0000000311", born: "1946-05-05")])
        try await stack.send(["2026-07-01", "2062-04-01", "2201-01-01", "2026-06-30", "2026-07-02"].map { day in
            factory.message(topic: "clock.business-day.v1", type: BusinessDay.type, id: "business-day:\(day)", key: "clock",
                            body: ["date": day])
        })
        try await stack.waitFor("every worker at 2026-07-02",
                                "SELECT count(*) FROM worker_calendars WHERE business_date = '2026-07-02'", atLeast: 3)
        try await stack.waitFor("refused by all three", "SELECT count(*) FROM dead_letters", atLeast: 9)
        #expect(try await stack.count("SELECT count(*) FROM worker_calendars WHERE business_date <> '2026-07-02'") == 0)
        #expect(try await stack.count("SELECT count(*) FROM dead_letters") == 9)
        #expect(try await stack.strings("SELECT DISTINCT reason FROM dead_letters ORDER BY 1") == [
            "date is more than 10 days after the business day already reached",
            "date is not after the business day already reached (a late or repeated tick)",
            "date is out of range",
        ])
        #expect(try await stack.count("SELECT count(*) FROM ledger WHERE entry = 'write-off'") == 0)
        #expect(try await stack.count("SELECT count(*) FROM assessment_runs") == 1, "the July day ran the 本算定 once")
    }

    /// The crash-loop breaker: an event that takes the worker process down on every start is
    /// dead-lettered by a later start, with the reason, and the partition flows on. A process
    /// blocked on the event's row and killed is such a crash (its database session is ended
    /// as the server ends a dead client's).
    @Test func anEventThatKeepsCrashingTheWorkerIsDeadLettered() async throws {
        let stack = try await Stack(inputPartitions: 1)
        defer { stack.stopAll() }
        let holder = try await stack.db()
        try await holder.run { conn in
            try conn.execute("INSERT INTO sample_items VALUES ('i2', 0, 0, 'before')")
            try conn.executeScript(unsafeSQL: "BEGIN; SELECT * FROM sample_items WHERE item_id = 'i2' FOR UPDATE")
        }
        try await stack.send(0..<5, items: 5)
        // A worker waiting on the held row (not one waiting a moment on a killed worker's session
        // that is still going away).
        let blocked: SQL = """
            SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'
              AND query LIKE '%INSERT INTO sample_items%'
            """
        var kills = 0
        while kills < 6, try await stack.count("SELECT count(*) FROM dead_letters") == 0 {
            let worker = try stack.startWorker()
            let stuck = try await stack.waitUntil(.seconds(30)) {
                let waiting = try await stack.count(blocked)
                let letters = try await stack.count("SELECT count(*) FROM dead_letters")
                return waiting > 0 || letters > 0
            }
            #expect(stuck, "\(worker.log.suffix(2000))")
            guard try await stack.count("SELECT count(*) FROM dead_letters") == 0 else { break }
            await worker.kill()
            kills += 1
            _ = try await stack.count("""
                SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                WHERE datname = current_database() AND wait_event_type = 'Lock'
                """)
        }
        #expect(kills == 4, "the whole batch once, then the event alone three times")
        let worker = stack.children.last!
        try await stack.waitUntil(.seconds(30)) { try await stack.count("SELECT count(*) FROM inbox") == 4 }
        try await holder.run { try $0.executeScript(unsafeSQL: "ROLLBACK") }
        try await stack.waitUntil(.seconds(30)) { try await stack.count("SELECT count(*) FROM inbox") == 4 }
        let letter = try await stack.db().run { try $0.query("SELECT \"offset\"::int, error_kind, reason FROM dead_letters") }
        #expect(letter.count == 1)
        #expect(try letter.first?.decode(Int.self, at: 0) == 2)
        #expect(try letter.first?.decode(String.self, at: 1) == "crash-loop")
        #expect(try letter.first?.decode(String.self, at: 2) == "applying it took the worker process down 3 times in a row")
        #expect(try await stack.count("SELECT count(*) FROM inbox") == 4, "the rest applied once")
        #expect(try await stack.count("SELECT updates FROM sample_items WHERE item_id = 'i2'") == 0)
        #expect(worker.isRunning)
    }

    /// M4: a lock held elsewhere makes the worker back off within its lock timeout (instead of
    /// freezing inside libpq) and recover once the lock is gone.
    @Test func aHeldLockMakesTheWorkerBackOffAndRecover() async throws {
        let stack = try await Stack(inputPartitions: 1)
        defer { stack.stopAll() }
        let worker = try stack.startWorker(extra: ["KOKI_DB_LOCK_TIMEOUT_MS": "300"])
        try await stack.send(0..<10, items: 10)
        #expect(try await stack.waitUntil(.seconds(60)) { try await stack.count("SELECT count(*) FROM inbox") == 10 })
        let holder = try await stack.db()
        try await holder.run { try $0.executeScript(unsafeSQL: "BEGIN; SELECT * FROM consumer_offsets FOR UPDATE") }
        try await stack.send(10..<20, items: 10)
        let backedOff = try await stack.waitUntil(.seconds(30)) { worker.log.contains("transient failure; backing off") }
        #expect(backedOff, "\(worker.log.suffix(2000))")
        #expect(worker.log.contains("55P03"), "lock not available")
        #expect(try await stack.count("SELECT count(*) FROM inbox") == 10)
        try await holder.run { try $0.executeScript(unsafeSQL: "ROLLBACK") }
        #expect(try await stack.waitUntil(.seconds(60)) { try await stack.count("SELECT count(*) FROM inbox") == 20 })
        #expect(worker.isRunning)
    }

    /// L2: clients that ask for /metrics and hang up before the answer (a reset connection)
    /// do not kill the worker with SIGPIPE.
    @Test func clientsThatHangUpDoNotKillTheWorker() async throws {
        let stack = try await Stack(inputPartitions: 1)
        defer { stack.stopAll() }
        let port = freePort()
        let worker = try stack.startWorker(port: port)
        #expect(try await stack.waitUntil(.seconds(30)) { httpStatus(port: port, path: "/livez") == 200 })
        for _ in 0..<300 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr = in_addr(s_addr: inet_addr("127.0.0.1"))
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            let request = Array("GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)
            _ = request.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            var reset = linger(l_onoff: 1, l_linger: 0)  // close with RST, not FIN
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, socklen_t(MemoryLayout<linger>.size))
            close(fd)
        }
        try await Task.sleep(for: .milliseconds(500))
        #expect(worker.isRunning, "\(worker.log.suffix(1000))")
        #expect(httpStatus(port: port, path: "/livez") == 200)
    }
}
