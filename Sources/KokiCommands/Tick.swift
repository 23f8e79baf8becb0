import ArgumentParser
import Foundation
import Kafka
import KokiBase
import KokiStore

/// `koki tick` — publishes the business-day clock (`clock.business-day.v1`), which is how
/// dates arrive in koki: workers never read the wall clock.
struct Tick: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Publish business-day events to clock.business-day.v1 (KOKI_KAFKA_BROKERS).",
        discussion: """
            Each event has the id business-day:<date>, so publishing a day twice is harmless: workers \
            apply an id once. With --through, every weekday from --date through that date is published, \
            in order (national holidays are not skipped yet; workers treat each date as "as of"). \
            A date more than a day ahead of today in Asia/Tokyo is refused without --force, and the \
            workers refuse it too unless KOKI_CLOCK_LATEST allows it (a synthetic or replayed year).
            """)

    @Option(help: "The business date, YYYY-MM-DD.")
    var date: String?

    @Flag(help: "Today in Asia/Tokyo instead of --date.")
    var today = false

    @Option(help: "Publish every weekday from --date through this date, YYYY-MM-DD.")
    var through: String?

    @Flag(help: "Publish dates ahead of tomorrow in Asia/Tokyo (for a synthetic or replayed year).")
    var force = false

    /// The first day: --date, or today in Tokyo.
    var firstDay: LocalDate? { today ? LocalDate.todayInTokyo() : date.flatMap { LocalDate(iso: $0) } }

    func validate() throws {
        guard (date == nil) != !today else { throw ValidationError("give either --date or --today") }
        guard let first = firstDay else { throw ValidationError("--date must be a date YYYY-MM-DD") }
        if let through {
            guard let last = LocalDate(iso: through) else { throw ValidationError("--through must be a date YYYY-MM-DD") }
            guard first <= last else { throw ValidationError("--through must not be before --date") }
            guard first.days(until: last) <= 3660 else { throw ValidationError("--through may be at most ten years after --date") }
        }
        let latest = LocalDate.todayInTokyo().adding(days: 1)
        if !force, (through.flatMap { LocalDate(iso: $0) } ?? first) > latest {
            throw ValidationError("business days after \(latest) (tomorrow in Asia/Tokyo) are refused without --force")
        }
    }

    /// A business day's event: the id is the day's, so a day published twice is applied once.
    static func message(_ day: LocalDate) -> OutgoingMessage {
        OutgoingMessage(topic: "clock.business-day.v1", key: "clock", value: "{\"date\":\"\(day)\"}", headers: [
            KafkaHeader("ce_specversion", "1.0"), KafkaHeader("ce_id", "business-day:\(day)"),
            KafkaHeader("ce_type", "clock.business-day"), KafkaHeader("ce_source", "urn:koki:clock"),
            KafkaHeader("ce_time", "\(day)T00:00:00Z"), KafkaHeader("content-type", "application/json"),
        ])
    }

    /// The days to publish: one date, or the weekdays of a range.
    static func days(from first: LocalDate, through last: LocalDate?) -> [LocalDate] {
        guard let last else { return [first] }
        return (0...first.days(until: last)).map { first.adding(days: $0) }.filter { !$0.isWeekend }
    }

    mutating func run() async throws {
        let days = Self.days(from: firstDay!, through: through.flatMap { LocalDate(iso: $0) })
        let config: KafkaConfig
        do {
            config = try KafkaConfig.fromEnvironment(clientID: "koki-tick")
        } catch {
            throw fail("\(error)")
        }
        let producer = try KafkaProducer(config: config)
        let messages = days.map(Self.message)
        let results = try await producer.send(messages)
        if let failure = results.first(where: { if case .failure = $0 { true } else { false } }) {
            throw fail("publishing failed: \(failure)")
        }
        print(days.count == 1 ? "published business day \(days[0])"
                              : "published \(days.count) business days, \(days.first!) through \(days.last!)")
    }
}
