import ArgumentParser
import Foundation
import Kafka
import KokiBase
import KokiStore
import Postgres
import Transfer

/// `koki clock` — the business-day scheduler: once a day, at `--at` in Asia/Tokyo, publishes
/// `clock.business-day.v1` for the day if it is a business day; after downtime it publishes every
/// business day it missed, in order, recording each in `clock_schedule` once Kafka has it. One
/// instance is active (a database advisory lock); others wait as standbys.
struct Clock: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The business-day scheduler (KOKI_DATABASE_URL, KOKI_KAFKA_BROKERS): publishes each business day, "
            + "catching up missed days in order; one active instance.",
        discussion: """
            Business days skip weekends, the holidays table and 年末年始 (29 December – 3 January); a year \
            the holidays table does not cover stops the scheduler with the reason. Each day has the id \
            business-day:<date>, so a day published twice is applied once.
            """)

    @Option(help: "The time of day (Asia/Tokyo) a day is published, HH:MM.") var at = "06:00"
    @Option(help: "For a first start: the last business day already published (default: yesterday in Tokyo).")
    var after: String?
    @Flag(help: "Publish what is due now, then exit (for cron, or a test).") var once = false
    @Option(help: "Seconds between looks at the clock.") var pollSeconds = 60

    /// Advisory-lock key of the one active scheduler.
    static let lock: (Int32, Int32) = (0x6B6F_6B69, 0x636C_6F63)

    var atMinutes: Int? {
        let parts = at.split(separator: ":")
        guard parts.count == 2, let h = Int(parts[0]), let m = Int(parts[1]), (0...23).contains(h), (0...59).contains(m) else {
            return nil
        }
        return h * 60 + m
    }

    func validate() throws {
        guard atMinutes != nil else { throw ValidationError("--at must be HH:MM (Asia/Tokyo)") }
        if let after, LocalDate(iso: after) == nil { throw ValidationError("--after must be a date YYYY-MM-DD") }
        guard (1...3600).contains(pollSeconds) else { throw ValidationError("--poll-seconds must be 1 to 3600") }
    }

    mutating func run() async throws {
        let (atMinutes, once, poll) = (self.atMinutes!, self.once, self.pollSeconds)
        let firstAfter = after.flatMap { LocalDate(iso: $0) }
        let producer: KafkaProducer
        do {
            producer = try KafkaProducer(config: try KafkaConfig.fromEnvironment(clientID: "koki-clock"))
        } catch {
            throw fail("\(error)")
        }
        let conn: PostgresConnection
        do {
            conn = try await PostgresConnection.connect(PostgresConnection.conninfo())
        } catch {
            throw fail((error as? PostgresError)?.operatorText ?? "\(error)")
        }
        let (lockClass, lockKey) = Self.lock
        var announced = false
        while try await !conn.run({ try $0.query("SELECT pg_try_advisory_lock(\(lockClass), \(lockKey))")[0].decode(Bool.self, at: 0) }) {
            if once { throw fail("another koki clock is active") }
            if !announced { print("koki clock: another instance is active; standing by"); announced = true }
            try await Task.sleep(for: .seconds(poll))
        }
        print("koki clock: active; publishing at \(at) Asia/Tokyo")
        while true {
            let now = Date()
            let target = ClockSchedule.target(now: now, atMinutes: atMinutes)
            let (days, last): ([LocalDate], LocalDate) = try await conn.run { conn in
                let recorded = try ClockSchedule.lastPublished(on: conn)
                let last = recorded ?? firstAfter ?? LocalDate.todayInTokyo(now).adding(days: -1)
                if recorded == nil { try ClockSchedule.record(last, on: conn) }
                let (holidays, years) = try ClockSchedule.holidays(on: conn)
                do {
                    return (try ClockSchedule.days(after: last, through: target, holidays: holidays, coveredYears: years), last)
                } catch let error as ClockSchedule.Unplannable {
                    throw fail(error.description)
                }
            }
            var reached = last
            for day in days {
                let results = try await producer.send([Tick.message(day)])
                if case .failure(let error) = results[0] { throw fail("publishing \(day) failed: \(error)") }
                try await conn.run { try ClockSchedule.record(day, on: $0) }
                print("koki clock: published business day \(day)")
                reached = day
            }
            // With each round that published a business day, the logs' heads go to the 情報システム管理者's
            // topic: a chain rebuilt after it is found by `koki audit verify --checkpoint-topic`.
            if reached > last, let head = try await conn.run({ try AuditLog.checkpoint(on: $0) }) {
                if case .failure(let error) = try await producer.send([try AuditCheckpoints.message(head)])[0] {
                    throw fail("publishing the audit checkpoint failed: \(error)")
                }
                print("koki clock: published the audit checkpoint (transfer log row \(head.seq))")
            }
            // Days that are not business days are passed over: the schedule moves on through them.
            if target > reached { try await conn.run { try ClockSchedule.record(target, on: $0) } }
            if once { return }
            try await Task.sleep(for: .seconds(poll))
        }
    }
}
