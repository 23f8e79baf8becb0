import Foundation
import KokiBase
import Postgres

/// The business-day scheduler's plan: which days `koki clock` publishes next. A business day is
/// a weekday that is neither a national holiday (the `holidays` table) nor in 年末年始 (29 December
/// to 3 January). A day of a year the holidays table does not cover is never published: koki
/// would not know whether it is a holiday.
public enum ClockSchedule {
    public struct Unplannable: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// The business days after `last` through `through`, in order (a gap of any length: the
    /// scheduler catches up after downtime).
    public static func days(after last: LocalDate, through: LocalDate, holidays: Set<LocalDate>,
                            coveredYears: Set<Int>) throws -> [LocalDate] {
        guard last < through else { return [] }
        var days: [LocalDate] = []
        var day = last.adding(days: 1)
        while day <= through {
            guard coveredYears.contains(day.year) else {
                throw Unplannable(description: "the holidays table has no holidays for \(day.year): add them before \(day) can be published")
            }
            if day.isBusinessDay(holidays: holidays) { days.append(day) }
            day = day.adding(days: 1)
        }
        return days
    }

    /// The day the schedule has reached now: today in Asia/Tokyo once `at` (minutes after
    /// midnight, Tokyo) has passed, else yesterday.
    public static func target(now: Date, atMinutes: Int) -> LocalDate {
        let tokyoSeconds = Int((now.timeIntervalSince1970 + 9 * 3600).rounded(.down))
        let minutesToday = (tokyoSeconds % 86_400) / 60
        let today = LocalDate.todayInTokyo(now)
        return minutesToday >= atMinutes ? today : today.adding(days: -1)
    }

    public static func holidays(on conn: PostgresConnection) throws -> (days: Set<LocalDate>, years: Set<Int>) {
        let days = Set(try conn.query("SELECT day FROM holidays").map { try $0.decode(LocalDate.self, at: 0) })
        return (days, Set(days.map(\.year)))
    }

    public static func lastPublished(on conn: PostgresConnection) throws -> LocalDate? {
        try conn.query("SELECT last_published FROM clock_schedule WHERE id = 1").first.map { try $0.decode(LocalDate.self, at: 0) }
    }

    public static func record(_ day: LocalDate, on conn: PostgresConnection) throws {
        try conn.execute("""
            INSERT INTO clock_schedule (id, last_published) VALUES (1, \(day))
            ON CONFLICT (id) DO UPDATE SET last_published = EXCLUDED.last_published, updated_at = now()
            """)
    }
}
