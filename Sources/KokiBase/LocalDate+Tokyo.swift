import Foundation

extension LocalDate {
    /// The date in Asia/Tokyo at `now` (UTC+9 all year: Japan has no summer time). Legal dates —
    /// a basis's active period, a business day, a report's day — are Japanese days, not UTC ones.
    public static func todayInTokyo(_ now: Date = Date()) -> LocalDate {
        LocalDate(daysSinceEpoch: Int(((now.timeIntervalSince1970 + 9 * 3600) / 86_400).rounded(.down)))
    }
}
