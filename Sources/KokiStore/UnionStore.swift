import Foundation
import KokiBase
import KokiDomain
import KokiEvents
import Postgres

/// SQL for the union's decisions as koki keeps them, and for 突合 (the discrepancy work queue).
public struct UnionStore {
    let tx: PostgresConnection

    public init(_ tx: PostgresConnection) { self.tx = tx }

    // MARK: The union's 賦課

    /// Keeps one decision as received. `applied`: whether it governs billing.
    public func insert(_ d: UnionAssessmentDecision, applied: Bool, refusedReason: String?, eventID: String,
                       on day: LocalDate?) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let components = String(decoding: try encoder.encode(d.components), as: UTF8.self)
        try tx.execute("""
            INSERT INTO union_assessments (atena_no, fiscal_year, revision, insured_no, decided_on, reason, annual_premium,
                reduction, components, collecting_months, applied, refused_reason, event_id, received_on)
            VALUES (\(d.atenaNo), \(d.fiscalYear), \(d.revision), \(d.insuredNo), \(d.decidedOn), \(d.reason), \(d.annualPremium),
                    \(d.kokiReduction), \(components)::jsonb, \(d.collectingMonths)::int[], \(applied), \(refusedReason),
                    \(eventID), \(day))
            """)
    }

    public struct Applied: Sendable, Hashable {
        public let revision: Int
        public let annualPremium: Int
        public let reduction: String
        public let insuredNo: String

        public init(revision: Int, annualPremium: Int, reduction: String, insuredNo: String) {
            (self.revision, self.annualPremium, self.reduction, self.insuredNo) = (revision, annualPremium, reduction, insuredNo)
        }
    }

    /// The union's decision that governs billing, per person, for `fiscalYear`.
    public func applied(of people: [String], fiscalYear: Int) throws -> [String: Applied] {
        guard !people.isEmpty else { return [:] }
        var result: [String: Applied] = [:]
        for row in try tx.query("""
            SELECT DISTINCT ON (atena_no) atena_no, revision, annual_premium, reduction, insured_no FROM union_assessments
            WHERE atena_no = ANY(\(people)::text[]) AND fiscal_year = \(fiscalYear) AND applied
            ORDER BY atena_no, revision DESC
            """) {
            result[try row.decode(String.self, at: 0)] = Applied(revision: try row.decode(at: 1), annualPremium: try row.decode(at: 2),
                                                                 reduction: try row.decode(at: 3), insuredNo: try row.decode(at: 4))
        }
        return result
    }

    /// The highest revision kept (applied or not) for one person and 年度.
    public func lastRevision(of person: String, fiscalYear: Int) throws -> Int? {
        try tx.query("""
            SELECT max(revision) FROM union_assessments WHERE atena_no = \(person) AND fiscal_year = \(fiscalYear)
            """).first.flatMap { try $0.decode(Int?.self, at: 0) }
    }

    /// `provisional` (koki bills its own figure until the union's arrives) or `union` (it waits).
    public func source(fiscalYear: Int) throws -> String {
        try tx.query("SELECT source FROM assessment_sources WHERE fiscal_year = \(fiscalYear)").first
            .map { try $0.decode(String.self, at: 0) } ?? "provisional"
    }

    // MARK: 突合

    public struct Finding: Sendable, Hashable {
        public let atenaNo: String
        public let fiscalYear: Int?
        public let kind: String
        public let kokiValue: String?
        public let unionValue: String?

        public init(atenaNo: String, fiscalYear: Int?, kind: String, kokiValue: String?, unionValue: String?) {
            (self.atenaNo, self.fiscalYear, self.kind, self.kokiValue, self.unionValue) = (atenaNo, fiscalYear, kind, kokiValue, unionValue)
        }
    }

    /// Opens a discrepancy, or brings an open one's values up to date.
    public func open(_ finding: Finding, on day: LocalDate, eventID: String) throws {
        let updated = try tx.query("""
            UPDATE discrepancies SET koki_value = \(finding.kokiValue), union_value = \(finding.unionValue)
            WHERE atena_no = \(finding.atenaNo) AND coalesce(fiscal_year, 0) = \(finding.fiscalYear ?? 0)
              AND kind = \(finding.kind) AND closed_on IS NULL
            RETURNING id
            """)
        guard updated.isEmpty else { return }
        try tx.execute("""
            INSERT INTO discrepancies (atena_no, fiscal_year, kind, koki_value, union_value, opened_on, event_id)
            VALUES (\(finding.atenaNo), \(finding.fiscalYear), \(finding.kind), \(finding.kokiValue), \(finding.unionValue),
                    \(day), \(eventID))
            """)
    }

    /// Closes the open discrepancies of these kinds: a later fact made koki and the union agree.
    public func closeAgreed(_ atenaNo: String, fiscalYear: Int?, kinds: [String], on day: LocalDate) throws {
        try tx.execute("""
            UPDATE discrepancies SET closed_on = \(day), closed_reason = 'agreed', closed_by = 'koki'
            WHERE atena_no = \(atenaNo) AND coalesce(fiscal_year, 0) = \(fiscalYear ?? 0) AND kind = ANY(\(kinds)::text[])
              AND closed_on IS NULL
            """)
    }

    /// Compares koki's figure with the union's for one person and 年度: opens what differs,
    /// closes what agrees.
    public func reconcile(_ atenaNo: String, fiscalYear: Int, koki: (premium: Int, reduction: String)?, union: Applied?,
                          on day: LocalDate, eventID: String) throws {
        guard let union else { return }
        guard let koki else {
            try open(.init(atenaNo: atenaNo, fiscalYear: fiscalYear, kind: "unknown-to-koki", kokiValue: nil,
                           unionValue: String(union.annualPremium)), on: day, eventID: eventID)
            return
        }
        try closeAgreed(atenaNo, fiscalYear: fiscalYear, kinds: ["unknown-to-koki"], on: day)
        for (kind, mine, theirs) in [("annual-premium", String(koki.premium), String(union.annualPremium)),
                                     ("reduction", koki.reduction, union.reduction)] {
            if mine == theirs {
                try closeAgreed(atenaNo, fiscalYear: fiscalYear, kinds: [kind], on: day)
            } else {
                try open(.init(atenaNo: atenaNo, fiscalYear: fiscalYear, kind: kind, kokiValue: mine, unionValue: theirs),
                         on: day, eventID: eventID)
            }
        }
    }

    public struct Discrepancy: Sendable, Encodable {
        public let id: Int
        public let atenaNo: String
        public let fiscalYear: Int?
        public let kind: String
        public let kokiValue: String?
        public let unionValue: String?
        public let openedOn: LocalDate
        public let closedOn: LocalDate?
        public let closedReason: String?
        public let closedBy: String?
    }

    public func discrepancies(openOnly: Bool, kind: String? = nil, person: String? = nil) throws -> [Discrepancy] {
        let open: SQL = openOnly ? "AND closed_on IS NULL" : ""
        let kindFilter: SQL = kind.map { "AND kind = \($0)" } ?? ""
        let personFilter: SQL = person.map { "AND atena_no = \($0)" } ?? ""
        return try tx.query("""
            SELECT id, atena_no, fiscal_year, kind, koki_value, union_value, opened_on, closed_on, closed_reason, closed_by
            FROM discrepancies WHERE true \(open) \(kindFilter) \(personFilter) ORDER BY opened_on, id
            """).map {
            Discrepancy(id: try $0.decode(at: 0), atenaNo: try $0.decode(at: 1), fiscalYear: try $0.decode(at: 2),
                        kind: try $0.decode(at: 3), kokiValue: try $0.decode(at: 4), unionValue: try $0.decode(at: 5),
                        openedOn: try $0.decode(at: 6), closedOn: try $0.decode(at: 7), closedReason: try $0.decode(at: 8),
                        closedBy: try $0.decode(at: 9))
        }
    }

    /// Open discrepancies by kind (the `koki_reconcile_open` gauge and the daily summary).
    public func openCounts() throws -> [String: Int] {
        var result: [String: Int] = [:]
        for row in try tx.query("SELECT kind, count(*)::int FROM discrepancies WHERE closed_on IS NULL GROUP BY kind") {
            result[try row.decode(String.self, at: 0)] = try row.decode(Int.self, at: 1)
        }
        return result
    }

    /// How many discrepancies opened and closed on `day`.
    public func movement(on day: LocalDate) throws -> (opened: Int, closed: Int) {
        let row = try tx.query("""
            SELECT count(*) FILTER (WHERE opened_on = \(day))::int, count(*) FILTER (WHERE closed_on = \(day))::int FROM discrepancies
            WHERE opened_on = \(day) OR closed_on = \(day)
            """)[0]
        return (try row.decode(Int.self, at: 0), try row.decode(Int.self, at: 1))
    }

    /// A clerk closes one open discrepancy with a reason. Returns false if it is not open.
    public func close(id: Int, reason: String, by clerk: String, on day: LocalDate) throws -> Bool {
        !(try tx.query("""
            UPDATE discrepancies SET closed_on = \(day), closed_reason = \(reason), closed_by = \(clerk) || ' (' || session_user || ')'
            WHERE id = \(id) AND closed_on IS NULL RETURNING id
            """)).isEmpty
    }
}
