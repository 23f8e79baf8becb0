import Foundation
import KokiBase
import KokiDomain
import KokiEvents
import KokiStore
import Postgres

/// The union's 資格 decisions in the resident worker, which owns 資格: kept as history, the union's
/// 被保険者番号 put in place of a provisional one (the old kept), and the union's periods checked
/// against koki's own (突合: a difference is a work item until a later fact makes them agree).
struct UnionQualifications {
    let tx: PostgresConnection

    /// Keeps each decision and takes the union's 被保険者番号. A number another person holds is not
    /// taken (the store keeps numbers unique): that is a discrepancy for a clerk, not a failed batch.
    func keep(_ decisions: [(eventID: String, decision: UnionQualificationDecision)]) throws {
        guard !decisions.isEmpty else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for (eventID, d) in decisions {
            try tx.execute("""
                INSERT INTO union_qualifications (atena_no, insured_no, decided_on, periods, burden_ratio, event_id)
                VALUES (\(d.atenaNo), \(d.insuredNo), \(d.decidedOn), \(String(decoding: try encoder.encode(d.periods), as: UTF8.self))::jsonb,
                        \(try d.burdenRatio.map { String(decoding: try encoder.encode($0), as: UTF8.self) })::jsonb, \(eventID))
                """)
            let holders = try tx.query("""
                SELECT atena_no, insured_number FROM residents
                WHERE atena_no = \(d.atenaNo) OR insured_number = \(d.insuredNo)
                """).map { (try $0.decode(String.self, at: 0), try $0.decode(String?.self, at: 1)) }
            if holders.contains(where: { $0.0 != d.atenaNo }) {
                try UnionStore(tx).open(.init(atenaNo: d.atenaNo, fiscalYear: nil, kind: "qualification",
                                              kokiValue: "insured number held by another person", unionValue: d.insuredNo),
                                        on: d.decidedOn, eventID: eventID)
                continue
            }
            let current = holders.first { $0.0 == d.atenaNo }?.1
            guard current != d.insuredNo else { continue }
            if let current {
                try tx.execute("""
                    INSERT INTO insured_number_history (atena_no, insured_number, replaced_on, replaced_by)
                    VALUES (\(d.atenaNo), \(current), \(d.decidedOn), \(eventID))
                    """)
            }
            try tx.execute("UPDATE residents SET insured_number = \(d.insuredNo) WHERE atena_no = \(d.atenaNo)")
        }
    }

    /// Compares the union's latest periods with koki's, as recomputed in this batch — for everyone
    /// the batch recomputed who has a union decision, so a later fact of koki's that makes them
    /// agree closes the item as surely as a later decision of the union's: the same periods (取得日
    /// and 喪失日) close the person's open `qualification` and `unknown-to-koki` items; otherwise one
    /// is opened (or brought up to date) with both values.
    func reconcile(_ decisions: [(eventID: String, decision: UnionQualificationDecision)], periods: [String: [QualificationPeriod]],
                   on businessDate: LocalDate?) throws {
        let people = Set(periods.keys).union(decisions.map(\.decision.atenaNo)).sorted()
        guard !people.isEmpty else { return }
        var latest: [String: (eventID: String, decidedOn: LocalDate, periods: [UnionQualificationDecision.Period])] = [:]
        let decoder = JSONDecoder()
        for row in try tx.query("""
            SELECT DISTINCT ON (atena_no) atena_no, event_id, decided_on, periods::text FROM union_qualifications
            WHERE atena_no = ANY(\(people)::text[]) ORDER BY atena_no, seq DESC
            """) {
            let union = try decoder.decode([UnionQualificationDecision.Period].self, from: Data(try row.decode(String.self, at: 3).utf8))
            latest[try row.decode(String.self, at: 0)] = (try row.decode(at: 1), try row.decode(at: 2), union)
        }
        let union = UnionStore(tx)
        for (person, decision) in latest.sorted(by: { $0.key < $1.key }) {
            let day = businessDate ?? decision.decidedOn
            // The union has decided about the person, so it knows them: each branch closes the
            // `unknown-to-union` item in the statement that closes its other kinds.
            let theirs = decision.periods.map { Self.text($0.acquiredOn, $0.lostOn) }.sorted()
            let ours = (periods[person] ?? []).map { Self.text($0.acquiredOn, $0.lostOn) }.sorted()
            if ours.isEmpty && !theirs.isEmpty {
                try union.closeAgreed(person, fiscalYear: nil, kinds: ["unknown-to-union"], on: day)
                try union.open(.init(atenaNo: person, fiscalYear: nil, kind: "unknown-to-koki", kokiValue: nil,
                                     unionValue: theirs.joined(separator: ",")), on: day, eventID: decision.eventID)
            } else if ours != theirs {
                try union.closeAgreed(person, fiscalYear: nil, kinds: ["unknown-to-koki", "unknown-to-union"], on: day)
                try union.open(.init(atenaNo: person, fiscalYear: nil, kind: "qualification", kokiValue: ours.joined(separator: ","),
                                     unionValue: theirs.joined(separator: ",")), on: day, eventID: decision.eventID)
            } else {
                try union.closeAgreed(person, fiscalYear: nil, kinds: ["qualification", "unknown-to-koki", "unknown-to-union"], on: day)
            }
        }
    }

    /// How long the union may take to decide about someone koki insures before it is a work item
    /// [assumed: the union decides within days of the 届出 it receives; a month is generous —
    /// change it here if the union's practice says otherwise].
    static let unknownToUnionAfterDays = 30

    /// Records the business day koki first told the union of these people's acquisition.
    func markReported(_ people: [String], on day: LocalDate?) throws {
        guard !people.isEmpty else { return }
        try tx.execute("""
            INSERT INTO union_reported (atena_no, reported_on) SELECT unnest(\(people)::text[]), \(day)::date
            ON CONFLICT (atena_no) DO NOTHING
            """)
    }

    /// On a business day: everyone koki insures and told the union of `unknownToUnionAfterDays` or
    /// more business-calendar days ago, of whom the union has decided nothing, is an
    /// `unknown-to-union` item (closed when a decision comes).
    func findUnknownToUnion(on day: LocalDate, eventID: String) throws {
        try tx.execute("UPDATE union_reported SET reported_on = \(day) WHERE reported_on IS NULL")
        let cutoff = day.adding(days: -Self.unknownToUnionAfterDays)
        let union = UnionStore(tx)
        for row in try tx.query("""
            SELECT q.atena_no, string_agg(q.acquired_on::text || '..' || coalesce(q.lost_on::text, ''), ',' ORDER BY q.acquired_on)
            FROM qualification_periods q
            WHERE q.atena_no IN (SELECT r.atena_no FROM union_reported r WHERE r.reported_on <= \(cutoff))
              AND EXISTS (SELECT 1 FROM qualification_periods c WHERE c.atena_no = q.atena_no AND c.lost_on IS NULL)
              AND NOT EXISTS (SELECT 1 FROM union_qualifications u WHERE u.atena_no = q.atena_no)
              AND NOT EXISTS (SELECT 1 FROM discrepancies d WHERE d.atena_no = q.atena_no AND d.kind = 'unknown-to-union'
                                AND d.closed_on IS NULL)
            GROUP BY q.atena_no ORDER BY q.atena_no
            """) {
            try union.open(.init(atenaNo: try row.decode(String.self, at: 0), fiscalYear: nil, kind: "unknown-to-union",
                                 kokiValue: try row.decode(String.self, at: 1), unionValue: nil), on: day, eventID: eventID)
        }
    }

    static func text(_ from: LocalDate, _ to: LocalDate?) -> String { "\(from)..\(to.map(\.description) ?? "")" }
}
