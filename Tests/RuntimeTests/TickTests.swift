import Foundation
import Kafka
import KokiBase
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
    /// Tokyo (past its time of day), records each, and publishes nothing twice.
    @Test func theSchedulerCatchesUpInOrderAndOnlyOnce() async throws {
        let cluster = try MockKafkaCluster(brokers: 1)
        try cluster.createTopic("clock.business-day.v1", partitions: 1)
        let url = try await MigratedDatabase.create()
        let env = ["KOKI_KAFKA_BROKERS": cluster.bootstrapServers, "KOKI_DATABASE_URL": url]
        let start = LocalDate.todayInTokyo().adding(days: -12)
        let conn = try await PostgresConnection.connect(url)
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
