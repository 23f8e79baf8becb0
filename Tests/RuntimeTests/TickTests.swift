import Foundation
import Kafka
import KokiBase
import KokiEvents
import KokiStore
import Postgres
import Testing

@Suite("koki tick")
struct TickTests {
    @Test func publishesOneBusinessDayAndAWeekdayRange() async throws {
        let cluster = try MockKafkaCluster(brokers: 1)
        try cluster.createTopic("clock.business-day.v1", partitions: 1)
        let env = ["KOKI_KAFKA_BROKERS": cluster.bootstrapServers]
        let (one, oneOut) = try await runCommand("koki", ["tick", "--date", "2026-07-31"], environment: env)
        #expect(one == 0, "\(oneOut)")
        // Fri 2026-07-31 … Tue 2026-08-04: the weekend is skipped.
        let (range, rangeOut) = try await runCommand("koki", ["tick", "--date", "2026-07-31", "--through", "2026-08-04"],
                                                     environment: env)
        #expect(range == 0, "\(rangeOut)")
        #expect(rangeOut.contains("published 3 business days"))

        let consumer = try KafkaConsumer(config: cluster.config(properties: ["session.timeout.ms": "4000"]), groupID: "tick-check")
        try consumer.subscribe(["clock.business-day.v1"])
        var messages: [ConsumedMessage] = []
        let deadline = ContinuousClock.now + .seconds(20)
        while messages.count < 4, ContinuousClock.now < deadline {
            messages += try await consumer.poll(maxMessages: 10, timeout: .milliseconds(200)).messages
        }
        try await consumer.close()
        #expect(messages.map { String(decoding: $0.value ?? [], as: UTF8.self) } == [
            "{\"date\":\"2026-07-31\"}", "{\"date\":\"2026-07-31\"}", "{\"date\":\"2026-08-03\"}", "{\"date\":\"2026-08-04\"}",
        ])
        #expect(messages.allSatisfy { $0.keyText == "clock" && $0.headers.text("ce_type") == "clock.business-day" })
        #expect(messages.map { $0.headers.text("ce_id") } == [
            "business-day:2026-07-31", "business-day:2026-07-31", "business-day:2026-08-03", "business-day:2026-08-04",
        ], "the same day always has the same id, so workers apply it once")
    }

    /// `koki topics create` makes every topic with its contract's partitions on a real broker
    /// (noida-db; the mock cluster has no CreateTopics), again without harm, and names a topic
    /// already there with another partition count.
    @Test func topicsAreCreatedAndADifferingOneIsNamed() async throws {
        let bootstrap = try #require(ProcessInfo.processInfo.environment["KOKI_TEST_NOIDA_BOOTSTRAP"],
                                     "KOKI_TEST_NOIDA_BOOTSTRAP: run the suites with scripts/test")
        for _ in 0..<2 {
            let (status, output) = try await runCommand("koki", ["topics", "create", "--replication-factor", "1"],
                                                        environment: ["KOKI_KAFKA_BROKERS": bootstrap])
            #expect(status == 0 && output.contains("\(Topics.all.count) topics present"), "\(output)")
        }
        let admin = try KafkaAdmin(config: KafkaConfig(bootstrapServers: bootstrap))
        let present = try await admin.metadata().topics
        for topic in Topics.all { #expect(present[topic.name] == topic.partitions, "\(topic.name)") }
        #expect(Topics.partitionMismatches(present) == nil)
        #expect(Topics.partitionMismatches(["tax.income.v1": 2, "unrelated": 1, "koiki.decisions.v1": 6])
                == "tax.income.v1 has 2, koki's contract 6")
    }

    /// H2: a day after tomorrow in Asia/Tokyo (a mistyped year) is refused unless forced.
    @Test func aFutureDayIsRefusedWithoutForce() async throws {
        let env = ["KOKI_KAFKA_BROKERS": "127.0.0.1:1"]
        let (status, output) = try await runCommand("koki", ["tick", "--date", "2062-04-01"], environment: env)
        #expect(status != 0)
        #expect(output.contains("(tomorrow in Asia/Tokyo) are refused without --force"))
        let (range, rangeOutput) = try await runCommand("koki", ["tick", "--date", "2026-12-01", "--through", "2031-01-05"],
                                                        environment: env)
        #expect(range != 0 && rangeOutput.contains("without --force"))
        let cluster = try MockKafkaCluster(brokers: 1)
        try cluster.createTopic("clock.business-day.v1", partitions: 1)
        let (forced, forcedOutput) = try await runCommand("koki", ["tick", "--date", "2062-04-01", "--force"],
                                                          environment: ["KOKI_KAFKA_BROKERS": cluster.bootstrapServers])
        #expect(forced == 0, "\(forcedOutput)")
    }

    /// `koki clock` publishes every business day it has not published, in order, up to today in
    /// Tokyo (past its time of day), records each, and publishes nothing twice; with the days, the
    /// transfer and access logs' heads go to the 情報システム管理者's topic (H7), against which a
    /// chain rebuilt later is found.
    @Test func theSchedulerCatchesUpInOrderAndOnlyOnce() async throws {
        let cluster = try MockKafkaCluster(brokers: 1)
        try cluster.createTopic("clock.business-day.v1", partitions: 1)
        try cluster.createTopic(Topics.auditCheckpoints, partitions: 1)
        let url = try await MigratedDatabase.create()
        let env = ["KOKI_KAFKA_BROKERS": cluster.bootstrapServers, "KOKI_DATABASE_URL": url]
        let start = LocalDate.todayInTokyo().adding(days: -12)
        let conn = try await PostgresConnection.connect(url)
        try await conn.run { conn throws in
            _ = try conn.query("""
                SELECT audit_append(ARRAY['koiki', 'koiki'], ARRAY['e1', 'e2'], ARRAY['koiki.receipt', 'koiki.receipt'],
                                    ARRAY['0000000001', '0000000002'], ARRAY['["atenaNo"]'::jsonb, '["atenaNo"]'::jsonb],
                                    ARRAY['basis', 'basis'], ARRAY['["0000000001"]'::jsonb, '["0000000002"]'::jsonb], 'relay')
                """)
            try AccessLog.record(subject: "person:0000000001", command: "person", fields: ["宛名"], purpose: "T-1",
                                 operatorName: "counter-1", on: conn)
        }
        let (holidays, years) = try await conn.run { try ClockSchedule.holidays(on: $0) }
        let expected = try ClockSchedule.days(after: start, through: LocalDate.todayInTokyo(), holidays: holidays, coveredYears: years)
        let (status, output) = try await runCommand("koki", ["clock", "--once", "--at", "00:00", "--after", start.description],
                                                    environment: env)
        #expect(status == 0, "\(output)")
        let (again, againOutput) = try await runCommand("koki", ["clock", "--once", "--at", "00:00"], environment: env)
        #expect(again == 0 && !againOutput.contains("published business day"), "\(againOutput)")
        let consumer = try KafkaConsumer(config: cluster.config(properties: ["session.timeout.ms": "4000"]), groupID: "clock-check")
        try consumer.subscribe(["clock.business-day.v1"])
        var ids: [String] = []
        let deadline = ContinuousClock.now + .seconds(20)
        while ids.count < expected.count, ContinuousClock.now < deadline {
            ids += try await consumer.poll(maxMessages: 100, timeout: .milliseconds(200)).messages.compactMap { $0.headers.text("ce_id") }
        }
        ids += try await consumer.poll(maxMessages: 100, timeout: .milliseconds(500)).messages.compactMap { $0.headers.text("ce_id") }
        try await consumer.close()
        #expect(!expected.isEmpty && ids == expected.map { "business-day:\($0)" }, "\(ids)")
        #expect(try await conn.run { try ClockSchedule.lastPublished(on: $0) } == LocalDate.todayInTokyo())
        // `koki tick --today` publishes today's date (refused only past tomorrow: never).
        let (tick, tickOutput) = try await runCommand("koki", ["tick", "--today"], environment: env)
        #expect(tick == 0 && tickOutput.contains("published business day \(LocalDate.todayInTokyo())"), "\(tickOutput)")

        // The checkpoint: published once (the second run published no day), as the contract says.
        let checkpoints = try KafkaConsumer(config: cluster.config(properties: ["session.timeout.ms": "4000"]), groupID: "checkpoint-check")
        try checkpoints.subscribe([Topics.auditCheckpoints])
        var published: [ConsumedMessage] = []
        let until = ContinuousClock.now + .seconds(10)
        while published.isEmpty, ContinuousClock.now < until {
            published += try await checkpoints.poll(maxMessages: 10, timeout: .milliseconds(200)).messages
        }
        published += try await checkpoints.poll(maxMessages: 10, timeout: .milliseconds(500)).messages
        try await checkpoints.close()
        #expect(published.count == 1 && published.first?.headers.text("ce_type") == "koki.audit-checkpoint", "\(published.count)")
        let body = try JSONSerialization.jsonObject(with: Data(published.first?.value ?? []))
        #expect(try SchemaValidator.forType("koki.audit-checkpoint")?.validate(body) == [])
        #expect((body as? [String: Any])?["seq"] as? Int == 2 && (body as? [String: Any])?["accessID"] as? Int == 1)
        let (verified, verifiedOutput) = try await runCommand("koki", ["audit", "verify", "--checkpoint-topic"], environment: env)
        #expect(verified == 0 && verifiedOutput.contains("1 checkpoints match"), "\(verifiedOutput)")
        // The log's owner rewrites row 1 and rehashes the chain: whole on its own, not against the topic.
        try await conn.run { conn throws in
            try conn.execute("SET ROLE koki_audit")
            defer { try? conn.execute("RESET ROLE") }
            try conn.execute("UPDATE audit_log SET destination = 'municipal-tax' WHERE seq = 1")
            try conn.execute("UPDATE audit_log a SET hash = audit_hash(a.prev_hash, a) WHERE a.seq = 1")
            try conn.execute("UPDATE audit_log a SET prev_hash = p.hash FROM audit_log p WHERE a.seq = 2 AND p.seq = 1")
            try conn.execute("UPDATE audit_log a SET hash = audit_hash(a.prev_hash, a) WHERE a.seq = 2")
        }
        let (alone, _) = try await runCommand("koki", ["audit", "verify"], environment: env)
        let (anchored, anchoredOutput) = try await runCommand("koki", ["audit", "verify", "--checkpoint-topic"], environment: env)
        #expect(alone == 0 && anchored != 0 && anchoredOutput.contains("does not match its checkpoints"), "\(anchoredOutput)")
    }

    @Test func aBadDateExitsNonZeroNamingTheOption() async throws {
        let (status, output) = try await runCommand("koki", ["tick", "--date", "2026-02-30"], environment: ["KOKI_KAFKA_BROKERS": "127.0.0.1:1"])
        #expect(status != 0)
        #expect(output.contains("--date must be a date YYYY-MM-DD"))
        let (missing, message) = try await runCommand("koki", ["tick", "--date", "2026-02-27"], environment: ["KOKI_KAFKA_BROKERS": ""])
        #expect(missing != 0)
        #expect(message.contains("KOKI_KAFKA_BROKERS"))
    }
}
