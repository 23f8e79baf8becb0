import Foundation
import KokiBase

/// Which business days a worker accepts from `clock.business-day.v1`. The business clock
/// drives 督促, 時効 and 不納欠損, the 本算定 and the year-end reports, and time never moves
/// back, so a day that cannot be the next one is refused (dead-lettered with the reason) by
/// every worker alike instead of being acted on:
/// - it must come after the day the worker has reached — a late or repeated tick does not run
///   its day's actions again;
/// - at most `windowDays` after it (a scheduler catches up missed days one by one; the longest
///   run of closed days, 年末年始 with a weekend or Golden Week, is under ten days);
/// - and not after `latest` — by default the day after today in Asia/Tokyo, so a mistyped year
///   (`2062-04-01` for `2026-04-01`) or a compromised scheduler cannot write everything off.
public struct ClockRule: Sendable, Equatable {
    /// `KOKI_CLOCK_WINDOW_DAYS` (default 10).
    public let windowDays: Int
    /// `KOKI_CLOCK_LATEST`: a fixed last acceptable day instead of tomorrow in Asia/Tokyo — for a
    /// synthetic or replayed year (`koki-dev dev`, tests), never for production.
    public let latest: LocalDate?

    public init(windowDays: Int = 10, latest: LocalDate? = nil) {
        self.windowDays = windowDays
        self.latest = latest
    }

    /// The production rule.
    public static let standard = ClockRule()

    /// For a synthetic or replayed scenario that jumps between the days that matter, in years
    /// that may lie ahead of the wall clock (benchmarks, in-process tests): still only forward,
    /// and nothing after 2099.
    public static let replay = ClockRule(windowDays: 3660, latest: LocalDate(year: 2099, month: 12, day: 31)!)

    public struct Invalid: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> ClockRule {
        var window = 10
        if let text = env["KOKI_CLOCK_WINDOW_DAYS"], !text.isEmpty {
            guard let value = Int(text), (1...3660).contains(value) else {
                throw Invalid(description: "KOKI_CLOCK_WINDOW_DAYS must be a whole number of days from 1 to 3660")
            }
            window = value
        }
        var latest: LocalDate?
        if let text = env["KOKI_CLOCK_LATEST"], !text.isEmpty {
            guard let date = LocalDate(iso: text) else { throw Invalid(description: "KOKI_CLOCK_LATEST must be a date YYYY-MM-DD") }
            latest = date
        }
        return ClockRule(windowDays: window, latest: latest)
    }

    /// The last business day accepted now.
    public func latestAccepted(now: Date = Date()) -> LocalDate {
        latest ?? LocalDate.todayInTokyo(now).adding(days: 1)
    }

    /// For each of a batch's business days in order, why it is refused (nil: it is the next
    /// day and moves the calendar), given the day the worker had reached before the batch.
    public func refusals(_ days: [LocalDate], after reached: LocalDate?, now: Date = Date()) -> [String?] {
        var current = reached
        let latest = latestAccepted(now: now)
        return days.map { day in
            if let current, day <= current {
                return "date is not after the business day already reached (a late or repeated tick)"
            }
            if let current, current.days(until: day) > windowDays {
                return "date is more than \(windowDays) days after the business day already reached"
            }
            if day > latest {
                return self.latest == nil ? "date is more than a day ahead of today in Asia/Tokyo"
                                          : "date is after the last business day configured (KOKI_CLOCK_LATEST)"
            }
            current = day
            return nil
        }
    }
}

extension CalendarStore {
    /// `rule.refusals` against this worker's business day.
    public func refusals(_ days: [LocalDate], rule: ClockRule) throws -> [String?] {
        days.isEmpty ? [] : rule.refusals(days, after: try businessDate())
    }
}

extension CalendarStore {
    /// Takes the business days `rule` refuses out of a batch's steps, in order, and returns
    /// why, by each refused step's `index` (its event's position in the batch).
    public func admitDays<Step>(_ steps: inout [Step], rule: ClockRule, day: (Step) -> LocalDate?,
                                index: (Step) -> Int) throws -> [Int: String] {
        let clock = steps.indices.compactMap { i in day(steps[i]).map { (i, $0) } }
        guard !clock.isEmpty else { return [:] }
        let reasons = try refusals(clock.map(\.1), rule: rule)
        var refused: [Int: String] = [:]
        var drop = Set<Int>()
        for ((position, _), reason) in zip(clock, reasons) {
            guard let reason else { continue }
            refused[index(steps[position])] = reason
            drop.insert(position)
        }
        if !drop.isEmpty { steps = steps.indices.filter { !drop.contains($0) }.map { steps[$0] } }
        return refused
    }
}
