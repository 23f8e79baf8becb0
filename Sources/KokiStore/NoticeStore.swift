import KokiBase
import KokiEvents
import Postgres

/// SQL for the notices that decide 資格 besides residence: 生活保護, 障害認定, 住所地特例,
/// 元被扶養者, department enrollments and forwarded applications. Each is kept as received.
public struct NoticeStore {
    let tx: PostgresConnection

    public init(_ tx: PostgresConnection) { self.tx = tx }

    /// A dated notice for one person: what switched on or off, and when.
    public struct Dated: Sendable, Hashable {
        public let atenaNo: String
        public let kind: String
        public let effectiveDate: LocalDate
        /// Arrival order, to break ties between notices of one day.
        public let seq: Int
        /// The department (enrollments) or the case / application number.
        public let detail: String

        public init(atenaNo: String, kind: String, effectiveDate: LocalDate, seq: Int, detail: String) {
            self.atenaNo = atenaNo
            self.kind = kind
            self.effectiveDate = effectiveDate
            self.seq = seq
            self.detail = detail
        }
    }

    public struct Assistance: Sendable {
        public let atenaNo, eventID, kind, caseNo: String
        public let householdNo: String?
        public let effectiveDate: LocalDate

        public init(atenaNo: String, eventID: String, kind: String, caseNo: String, householdNo: String?, effectiveDate: LocalDate) {
            (self.atenaNo, self.eventID, self.kind, self.caseNo, self.householdNo, self.effectiveDate) =
                (atenaNo, eventID, kind, caseNo, householdNo, effectiveDate)
        }
    }

    public func insert(_ rows: [Assistance]) throws {
        guard !rows.isEmpty else { return }
        try tx.execute("""
            INSERT INTO public_assistance_notices (atena_no, event_id, kind, case_no, household_no, effective_date)
            SELECT * FROM unnest(\(rows.map(\.atenaNo))::text[], \(rows.map(\.eventID))::text[], \(rows.map(\.kind))::text[],
                                 \(rows.map(\.caseNo))::text[], \(rows.map(\.householdNo))::text[],
                                 \(rows.map(\.effectiveDate))::date[])
            """)
    }

    public struct Application: Sendable {
        public let atenaNo, eventID, applicationNo, kind: String
        public let effectiveDate: LocalDate
        public let receivedDate: LocalDate
        /// 障害認定: the grade; 住所地特例: the facility; 元被扶養者: the insurer.
        public let detail: String?
        /// 住所地特例: the previous insurer.
        public let extra: String?

        public init(atenaNo: String, eventID: String, applicationNo: String, kind: String, effectiveDate: LocalDate,
                    receivedDate: LocalDate, detail: String?, extra: String?) {
            (self.atenaNo, self.eventID, self.applicationNo, self.kind) = (atenaNo, eventID, applicationNo, kind)
            (self.effectiveDate, self.receivedDate, self.detail, self.extra) = (effectiveDate, receivedDate, detail, extra)
        }
    }

    public func insertDisability(_ rows: [Application]) throws {
        guard !rows.isEmpty else { return }
        try tx.execute("""
            INSERT INTO disability_notices (atena_no, event_id, application_no, kind, effective_date, grade, received_date)
            SELECT * FROM unnest(\(rows.map(\.atenaNo))::text[], \(rows.map(\.eventID))::text[],
                                 \(rows.map(\.applicationNo))::text[], \(rows.map(\.kind))::text[],
                                 \(rows.map(\.effectiveDate))::date[], \(rows.map(\.detail))::text[],
                                 \(rows.map(\.receivedDate))::date[])
            """)
    }

    public func insertSpecialAddress(_ rows: [Application]) throws {
        guard !rows.isEmpty else { return }
        try tx.execute("""
            INSERT INTO special_address_notices (atena_no, event_id, application_no, kind, effective_date, facility_name,
                                                 previous_insurer, received_date)
            SELECT * FROM unnest(\(rows.map(\.atenaNo))::text[], \(rows.map(\.eventID))::text[],
                                 \(rows.map(\.applicationNo))::text[], \(rows.map(\.kind))::text[],
                                 \(rows.map(\.effectiveDate))::date[], \(rows.map { $0.detail ?? "" })::text[],
                                 \(rows.map { $0.extra ?? "" })::text[], \(rows.map(\.receivedDate))::date[])
            """)
    }

    /// Both the resident and the tax worker record 元被扶養者 notices (each consumes the
    /// counter's topic); the event id makes the second insert a no-op.
    public func insertFormerDependents(_ rows: [Application]) throws {
        guard !rows.isEmpty else { return }
        try tx.execute("""
            INSERT INTO former_dependents (atena_no, event_id, application_no, insurer_name, dependent_until, received_date)
            SELECT * FROM unnest(\(rows.map(\.atenaNo))::text[], \(rows.map(\.eventID))::text[],
                                 \(rows.map(\.applicationNo))::text[], \(rows.map { $0.detail ?? "" })::text[],
                                 \(rows.map(\.effectiveDate))::date[], \(rows.map(\.receivedDate))::date[])
            ON CONFLICT (event_id) DO NOTHING
            """)
    }

    public func insertForwarded(_ rows: [Application]) throws {
        guard !rows.isEmpty else { return }
        try tx.execute("""
            INSERT INTO forwarded_applications (event_id, atena_no, application_no, kind, received_date)
            SELECT * FROM unnest(\(rows.map(\.eventID))::text[], \(rows.map(\.atenaNo))::text[],
                                 \(rows.map(\.applicationNo))::text[], \(rows.map(\.kind))::text[],
                                 \(rows.map(\.receivedDate))::date[])
            """)
    }

    public struct Enrollment: Sendable {
        public let atenaNo, eventID, department, kind, program: String
        public let effectiveDate: LocalDate

        public init(atenaNo: String, eventID: String, department: String, kind: String, program: String, effectiveDate: LocalDate) {
            (self.atenaNo, self.eventID, self.department, self.kind, self.program, self.effectiveDate) =
                (atenaNo, eventID, department, kind, program, effectiveDate)
        }
    }

    public func insert(_ rows: [Enrollment]) throws {
        guard !rows.isEmpty else { return }
        try tx.execute("""
            INSERT INTO department_enrollments (atena_no, event_id, department, kind, program, effective_date)
            SELECT * FROM unnest(\(rows.map(\.atenaNo))::text[], \(rows.map(\.eventID))::text[],
                                 \(rows.map(\.department))::text[], \(rows.map(\.kind))::text[],
                                 \(rows.map(\.program))::text[], \(rows.map(\.effectiveDate))::date[])
            """)
    }

    /// Every dated notice of these people, by table: `assistance` (detail: case number),
    /// `disability`, `specialAddress` (detail: application number) and `enrollment`
    /// (detail: department).
    public func dated(of people: [String]) throws -> (assistance: [String: [Dated]], disability: [String: [Dated]],
                                                      specialAddress: [String: [Dated]], enrollment: [String: [Dated]]) {
        guard !people.isEmpty else { return ([:], [:], [:], [:]) }
        func load(_ sql: SQL) throws -> [String: [Dated]] {
            var result: [String: [Dated]] = [:]
            for row in try tx.query(sql) {
                let dated = Dated(atenaNo: try row.decode(at: 0), kind: try row.decode(at: 1), effectiveDate: try row.decode(at: 2),
                                  seq: try row.decode(at: 3), detail: try row.decode(at: 4))
                result[dated.atenaNo, default: []].append(dated)
            }
            return result
        }
        return (
            try load("""
                SELECT n.atena_no, n.kind, n.effective_date, n.seq, n.case_no
                FROM \(KeyedLookup.rows(of: "public_assistance_notices", where: "atena_no", in: people, as: "n")) ORDER BY n.seq
                """),
            try load("""
                SELECT n.atena_no, n.kind, n.effective_date, n.seq, n.application_no
                FROM \(KeyedLookup.rows(of: "disability_notices", where: "atena_no", in: people, as: "n")) ORDER BY n.seq
                """),
            try load("""
                SELECT n.atena_no, n.kind, n.effective_date, n.seq, n.application_no
                FROM \(KeyedLookup.rows(of: "special_address_notices", where: "atena_no", in: people, as: "n")) ORDER BY n.seq
                """),
            try load("""
                SELECT n.atena_no, n.kind, n.effective_date, n.seq, n.department
                FROM \(KeyedLookup.rows(of: "department_enrollments", where: "atena_no", in: people, as: "n")) ORDER BY n.seq
                """))
    }

    /// The departments someone is enrolled with on `day`, from their enrollment notices.
    public static func departments(_ enrollments: [Dated], on day: LocalDate) -> [Department] {
        var latest: [String: Dated] = [:]
        for notice in enrollments.sorted(by: { ($0.effectiveDate, $0.seq) < ($1.effectiveDate, $1.seq) })
        where notice.effectiveDate <= day {
            latest[notice.detail] = notice
        }
        return latest.values.filter { $0.kind == "enrolled" }.compactMap { Department(rawValue: $0.detail) }
            .sorted { $0.rawValue < $1.rawValue }
    }
}
