import KokiBase
import KokiDomain
import Postgres

/// SQL for 資格: the current periods, their history and 資格確認書 issuance.
public struct QualificationStore {
    let tx: PostgresConnection

    public init(_ tx: PostgresConnection) { self.tx = tx }

    /// A stored period with the 履歴番号 of its latest history row.
    public struct Stored: Sendable {
        public let period: QualificationPeriod
        public let historyNo: Int
    }

    public func periods(of people: [String]) throws -> [String: [Stored]] {
        guard !people.isEmpty else { return [:] }
        var result: [String: [Stored]] = [:]
        for row in try tx.query("""
            SELECT p.atena_no, p.acquired_on, p.acquisition_reason, p.lost_on, p.loss_reason, p.history_no
            FROM \(KeyedLookup.rows(of: "qualification_periods", where: "atena_no", in: people, as: "p"))
            ORDER BY p.atena_no, p.acquired_on
            """) {
            guard let acquisition = AcquisitionReason(rawValue: try row.decode(at: 2)) else {
                throw PostgresError(.decode, "unknown acquisition reason in qualification_periods")
            }
            let loss = try row.decode(String?.self, at: 4).map { text -> LossReason in
                guard let reason = LossReason(rawValue: text) else {
                    throw PostgresError(.decode, "unknown loss reason in qualification_periods")
                }
                return reason
            }
            let period = QualificationPeriod(acquiredOn: try row.decode(at: 1), acquisitionReason: acquisition,
                                             lostOn: try row.decode(at: 3), lossReason: loss)
            result[try row.decode(String.self, at: 0), default: []].append(Stored(period: period, historyNo: try row.decode(at: 5)))
        }
        return result
    }

    /// The last 履歴番号 per person.
    public func lastHistoryNumbers(_ people: [String]) throws -> [String: Int] {
        guard !people.isEmpty else { return [:] }
        var result: [String: Int] = [:]
        for row in try tx.query("""
            SELECT h.atena_no, max(h.history_no)
            FROM \(KeyedLookup.rows(of: "qualification_history", where: "atena_no", in: people, as: "h", selecting: "atena_no, history_no"))
            GROUP BY h.atena_no
            """) {
            result[try row.decode(String.self, at: 0)] = try row.decode(Int.self, at: 1)
        }
        return result
    }

    /// One history row: a change to one period.
    public struct HistoryRow: Sendable {
        public let atenaNo: String
        public let historyNo: Int
        public let previousHistoryNo: Int?
        public let insuredNumber: String
        public let change: String
        public let period: QualificationPeriod
        public let eventID: String

        public init(atenaNo: String, historyNo: Int, previousHistoryNo: Int?, insuredNumber: String, change: String,
                    period: QualificationPeriod, eventID: String) {
            self.atenaNo = atenaNo
            self.historyNo = historyNo
            self.previousHistoryNo = previousHistoryNo
            self.insuredNumber = insuredNumber
            self.change = change
            self.period = period
            self.eventID = eventID
        }
    }

    /// Writes the history rows and replaces the changed people's current periods.
    /// `current` holds each changed person's periods with the 履歴番号 each now carries.
    public func record(_ history: [HistoryRow], current: [String: [(QualificationPeriod, Int)]]) throws {
        guard !history.isEmpty else { return }
        let h = history
        try tx.execute("""
            INSERT INTO qualification_history (atena_no, history_no, previous_history_no, insured_number, change,
                                               acquired_on, acquisition_reason, lost_on, loss_reason, event_id)
            SELECT * FROM unnest(\(h.map(\.atenaNo))::text[], \(h.map(\.historyNo))::int[], \(h.map(\.previousHistoryNo))::int[],
                                 \(h.map(\.insuredNumber))::text[], \(h.map(\.change))::text[],
                                 \(h.map(\.period.acquiredOn))::date[], \(h.map(\.period.acquisitionReason.rawValue))::text[],
                                 \(h.map(\.period.lostOn))::date[], \(h.map { $0.period.lossReason?.rawValue })::text[],
                                 \(h.map(\.eventID))::text[])
            """)
        let people = Array(current.keys)
        try KeyedLookup.delete(from: "qualification_periods", where: "atena_no", in: people, on: tx)
        let rows = current.flatMap { atenaNo, periods in periods.map { (atenaNo, $0.0, $0.1) } }
        guard !rows.isEmpty else { return }
        try tx.execute("""
            INSERT INTO qualification_periods (atena_no, acquired_on, acquisition_reason, lost_on, loss_reason, history_no)
            SELECT * FROM unnest(\(rows.map(\.0))::text[], \(rows.map(\.1.acquiredOn))::date[],
                                 \(rows.map(\.1.acquisitionReason.rawValue))::text[], \(rows.map(\.1.lostOn))::date[],
                                 \(rows.map { $0.1.lossReason?.rawValue })::text[], \(rows.map(\.2))::int[])
            """)
    }

    /// Records 資格確認書 issuances; returns the ones that are new (an issuance already
    /// recorded for the same period is not issued again).
    /// The 資格確認書 due on business day `day`: every period open that day (insured, no 喪失日 on or
    /// before it) without one yet, with the person's 被保険者番号. Decided on the business day from
    /// what the store holds then — not from the order and batching of the events that led there.
    public func certificatesDue(on day: LocalDate) throws -> [(atenaNo: String, acquiredOn: LocalDate, insuredNumber: String)] {
        try tx.query("""
            SELECT p.atena_no, p.acquired_on, r.insured_number FROM qualification_periods p
            JOIN residents r ON r.atena_no = p.atena_no AND r.insured_number IS NOT NULL
            WHERE p.acquired_on <= \(day) AND (p.lost_on IS NULL OR p.lost_on > \(day))
              AND NOT EXISTS (SELECT 1 FROM qualification_certificates c WHERE c.atena_no = p.atena_no AND c.acquired_on = p.acquired_on)
            ORDER BY p.atena_no, p.acquired_on
            """).map { (try $0.decode(at: 0), try $0.decode(at: 1), try $0.decode(at: 2)) }
    }

    public func issueCertificates(_ issues: [(atenaNo: String, acquiredOn: LocalDate, insuredNumber: String, eventID: String)])
        throws -> Set<String> {
        guard !issues.isEmpty else { return [] }
        return Set(try tx.query("""
            INSERT INTO qualification_certificates (atena_no, acquired_on, insured_number, valid_from, event_id)
            SELECT a, d, n, d, e FROM unnest(\(issues.map(\.atenaNo))::text[], \(issues.map(\.acquiredOn))::date[],
                                          \(issues.map(\.insuredNumber))::text[], \(issues.map(\.eventID))::text[]) AS v(a, d, n, e)
            ON CONFLICT DO NOTHING RETURNING atena_no
            """).map { try $0.decode(String.self, at: 0) })
    }
}

/// The business calendar the clock events told one worker (each keeps its own: a day's work
/// is each worker's to notice).
public struct CalendarStore {
    public enum Worker: String, Sendable { case resident, tax, payment }

    let tx: PostgresConnection
    let worker: Worker

    public init(_ tx: PostgresConnection, worker: Worker) {
        self.tx = tx
        self.worker = worker
    }

    public func businessDate() throws -> LocalDate? {
        try tx.query("SELECT business_date FROM worker_calendars WHERE worker = \(worker.rawValue)").first
            .map { try $0.decode(LocalDate.self, at: 0) }
    }

    /// The dependency between workers' days: why this worker must wait, while `upstream` has not
    /// reached the latest of `dates` (nil: it has, or there is no clock step).
    public static func behind(_ upstream: Worker, reaching dates: [LocalDate], in tx: PostgresConnection) throws -> String? {
        guard let latest = dates.max() else { return nil }
        let reached = try CalendarStore(tx, worker: upstream).businessDate()
        if let reached, reached >= latest { return nil }
        return "the \(upstream.rawValue) worker has not reached \(latest) (it is at \(reached.map(\.description) ?? "no day yet"))"
    }

    /// The worker whose day must come first (`KOKI_CALENDAR_AFTER`: a worker's name, or `none`
    /// when it runs alone, as in tests of one worker).
    public static func upstream(default worker: Worker?, environment: [String: String]) throws -> Worker? {
        guard let text = environment["KOKI_CALENDAR_AFTER"], !text.isEmpty else { return worker }
        if text == "none" { return nil }
        guard let named = Worker(rawValue: text) else {
            throw CalendarError(description: "KOKI_CALENDAR_AFTER must be resident, tax, payment or none")
        }
        return named
    }

    /// Moves the business date forward (never back: a late or replayed tick changes nothing).
    public func advance(to date: LocalDate) throws -> LocalDate {
        // The moment the worker reached the day: the boundary of its days for the interface reconciliation.
        try tx.execute("""
            INSERT INTO business_day_marks (worker, business_date) VALUES (\(worker.rawValue), \(date)) ON CONFLICT DO NOTHING
            """)
        return try tx.query("""
            INSERT INTO worker_calendars (worker, business_date) VALUES (\(worker.rawValue), \(date))
            ON CONFLICT (worker) DO UPDATE SET business_date = greatest(worker_calendars.business_date, EXCLUDED.business_date)
            RETURNING business_date
            """)[0].decode(LocalDate.self, at: 0)
    }
}

public struct CalendarError: Error, CustomStringConvertible, Sendable {
    public let description: String
}
