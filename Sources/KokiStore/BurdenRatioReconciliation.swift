import Foundation
import KokiBase
import KokiEvents
import Postgres

/// 突合 of the 負担割合: the union's (`koiki.qualification-decided`'s `burdenRatio`, each ratio from
/// a date) against koki's own judgment (`burden_ratios`, from 1 August, a 取得日 or the month after a
/// change of household). Run by whichever worker learns the later of the two: the resident worker
/// when a decision arrives, the tax worker when it judges. Compared on every date either side
/// changes the ratio, where both have one in force (before koki has judged a person, or when the
/// union sent none, there is nothing to compare): a difference opens — or brings up to date — a
/// `burden-ratio` item; agreement closes it.
public struct BurdenRatioReconciliation {
    let tx: PostgresConnection

    public init(_ tx: PostgresConnection) { self.tx = tx }

    public func reconcile(_ people: [String], on day: LocalDate?) throws {
        let people = Array(Set(people)).sorted()
        guard !people.isEmpty else { return }
        // The two workers write the two sides in overlapping transactions: one at a time per person
        // (in order, so two batches never wait on each other), each reading what the other committed.
        _ = try tx.query("SELECT pg_advisory_xact_lock(7370, hashtext(p)) FROM unnest(\(people)::text[]) WITH ORDINALITY AS x(p, n) ORDER BY n")
        var union: [String: (eventID: String, decidedOn: LocalDate, steps: [(LocalDate, Int)])] = [:]
        let decoder = JSONDecoder()
        for row in try tx.query("""
            SELECT DISTINCT ON (atena_no) atena_no, event_id, decided_on, burden_ratio::text FROM union_qualifications
            WHERE atena_no = ANY(\(people)::text[]) ORDER BY atena_no, seq DESC
            """) {
            guard let text = try row.decode(String?.self, at: 3) else { continue }  // the union said nothing of it
            let ratios = try decoder.decode([UnionQualificationDecision.Ratio].self, from: Data(text.utf8))
            union[try row.decode(String.self, at: 0)] = (try row.decode(at: 1), try row.decode(at: 2),
                                                          ratios.map { ($0.from, $0.ratio * 10) }.sorted { $0.0 < $1.0 })
        }
        guard !union.isEmpty else { return }
        var ours: [String: [(LocalDate, Int)]] = [:]
        for row in try tx.query("""
            SELECT DISTINCT ON (atena_no, effective_from) atena_no, effective_from, ratio FROM burden_ratios
            WHERE atena_no = ANY(\(Array(union.keys).sorted())::text[]) ORDER BY atena_no, effective_from, history_no DESC
            """) {
            ours[try row.decode(String.self, at: 0), default: []].append((try row.decode(at: 1), try row.decode(at: 2)))
        }
        let store = UnionStore(tx)
        for (person, decision) in union.sorted(by: { $0.key < $1.key }) {
            guard let mine = ours[person], !mine.isEmpty, !decision.steps.isEmpty else { continue }
            func inForce(_ steps: [(LocalDate, Int)], on date: LocalDate) -> Int? { steps.last { $0.0 <= date }?.1 }
            let dates = Set(mine.map(\.0) + decision.steps.map(\.0)).sorted()
            let differs = dates.contains { date in
                guard let a = inForce(mine, on: date), let b = inForce(decision.steps, on: date) else { return false }
                return a != b
            }
            let when = day ?? decision.decidedOn
            if differs {
                try store.open(.init(atenaNo: person, fiscalYear: nil, kind: "burden-ratio", kokiValue: Self.text(mine),
                                     unionValue: Self.text(decision.steps)), on: when, eventID: decision.eventID)
            } else {
                try store.closeAgreed(person, fiscalYear: nil, kinds: ["burden-ratio"], on: when)
            }
        }
    }

    /// `2026-08-01:1割,2027-08-01:2割`.
    static func text(_ steps: [(LocalDate, Int)]) -> String { steps.map { "\($0.0):\($0.1 / 10)割" }.joined(separator: ",") }
}
