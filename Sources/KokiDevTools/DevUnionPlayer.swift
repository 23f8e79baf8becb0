import Foundation
import Kafka
import KokiBase
import KokiCommands
import KokiEvents
import KokiSynth
import Postgres

/// The union's side of `koki-dev dev`: 埼玉県後期高齢者医療広域連合 decides a few business days after koki
/// tells it a 資格 change or decides a premium — mostly as koki computed, with a realistic share of
/// disagreements so the 突合 queue is exercised: a 届出 the union processed with another date (2 %
/// of qualification decisions) and a 更正 koki has not seen (3 % of assessments). Every choice is
/// drawn from the content (the 宛名番号), never from timing, so a seed plays the same every run.
struct UnionPlayer: Sendable {
    var seed: UInt64 = 1
    /// The union decides this many days after koki's fact.
    let delayDays = 5
    private var pending = DatedMessages()
    private var revisions: [String: Int] = [:]
    private var serial = 0
    private let factory = EventFactory(source: "urn:saitama-koiki:decisions")

    struct Assessment: Sendable {
        let atenaNo: String
        let fiscalYear: Int
        let premium: Int
        let reduction: String
        let months: Int
    }

    struct Qualification: Sendable {
        let atenaNo: String
        let periods: [(acquiredOn: LocalDate, reason: String, lostOn: LocalDate?, lossReason: String?)]
    }

    /// koki's assessment decisions of (after, through]: the latest per person and 年度.
    static func assessments(after: LocalDate, through: LocalDate, on conn: PostgresConnection) throws -> [Assessment] {
        try conn.query("""
            SELECT DISTINCT ON (atena_no, fiscal_year) atena_no, fiscal_year, premium, reduction, months FROM assessment_history
            WHERE decided_on > \(after) AND decided_on <= \(through)
            ORDER BY atena_no, fiscal_year, history_no DESC
            """).map {
            Assessment(atenaNo: try $0.decode(at: 0), fiscalYear: try $0.decode(at: 1), premium: try $0.decode(at: 2),
                       reduction: try $0.decode(at: 3), months: try $0.decode(at: 4))
        }
    }

    /// The people whose 資格 koki changed after `since` (a point of the history's clock, as the
    /// store writes it), with their periods, and the point to ask from next time. The player asks
    /// once the stack is quiet, so nothing recorded before that point is still uncommitted.
    static func qualifications(since: String, on conn: PostgresConnection) throws -> (people: [Qualification], until: String) {
        let until = try conn.query("SELECT now()::text")[0].decode(String.self, at: 0)
        var periods: [String: [(acquiredOn: LocalDate, reason: String, lostOn: LocalDate?, lossReason: String?)]] = [:]
        for row in try conn.query("""
            SELECT p.atena_no, p.acquired_on, p.acquisition_reason, p.lost_on, p.loss_reason FROM qualification_periods p
            WHERE p.atena_no IN (SELECT atena_no FROM qualification_history
                                 WHERE recorded_at > \(since)::timestamptz AND recorded_at <= \(until)::timestamptz)
            ORDER BY p.atena_no, p.acquired_on
            """) {
            periods[try row.decode(String.self, at: 0), default: []].append(
                (try row.decode(LocalDate.self, at: 1), try row.decode(String.self, at: 2), try row.decode(LocalDate?.self, at: 3),
                 try row.decode(String?.self, at: 4)))
        }
        return (periods.keys.sorted().map { Qualification(atenaNo: $0, periods: periods[$0]!) }, until)
    }

    /// A share of people, chosen by their number (the same every run).
    func chosen(_ atenaNo: String, percent: UInt64, salt: UInt64) -> Bool {
        var random = SeededRandom(seed: seed &* 7_907 &+ (UInt64(atenaNo) ?? 0) &* 104_729 &+ salt)
        return UInt64.random(in: 0..<100, using: &random) < percent
    }

    /// The union's 被保険者番号: its own range ("9" and the last seven digits of the 宛名番号).
    static func insuredNumber(_ atenaNo: String) -> String { "9" + String(atenaNo.suffix(7)) }

    mutating func decide(_ assessments: [Assessment], today: LocalDate) {
        for a in assessments where a.months > 0 {
            let key = "\(a.atenaNo)|\(a.fiscalYear)"
            let revision = (revisions[key] ?? 0) + 1
            revisions[key] = revision
            // A 更正 koki has not seen: the union's figure is 1,200 yen higher.
            let premium = chosen(a.atenaNo, percent: 3, salt: UInt64(a.fiscalYear)) ? a.premium + 1_200 : a.premium
            let decision = UnionAssessmentDecision(
                atenaNo: a.atenaNo, insuredNo: Self.insuredNumber(a.atenaNo), fiscalYear: a.fiscalYear, revision: revision,
                decidedOn: today.adding(days: delayDays - 1), reason: revision == 1 ? "honsantei" : "correction",
                annualPremium: premium, reduction: a.reduction == "none" ? "0" : a.reduction,
                components: [.init(name: "medical", perCapita: 0, incomeShare: 0)],
                collectingMonths: Array(Self.months(a.months)))
            add(today.adding(days: delayDays), type: UnionDecision.assessmentDecided, key: a.atenaNo, body: decision)
        }
    }

    mutating func decide(_ qualifications: [Qualification], today: LocalDate) {
        for q in qualifications {
            // A 届出 the union processed with another date: its 取得日 a day later.
            let differs = chosen(q.atenaNo, percent: 2, salt: 75)
            let periods = q.periods.enumerated().map { index, p in
                let shifted = differs && index == 0 && (p.lostOn.map { $0 > p.acquiredOn.adding(days: 1) } ?? true)
                return UnionQualificationDecision.Period(acquiredOn: shifted ? p.acquiredOn.adding(days: 1) : p.acquiredOn,
                                                  acquisitionReason: p.reason, lostOn: p.lostOn,
                                                  lossReason: p.lossReason.map { UnionQualificationDecision.lossReasons.contains($0) ? $0 : "other" })
            }
            let decision = UnionQualificationDecision(atenaNo: q.atenaNo, insuredNo: Self.insuredNumber(q.atenaNo),
                                                      decidedOn: today.adding(days: delayDays - 1), periods: periods, burdenRatio: nil)
            add(today.adding(days: delayDays), type: UnionDecision.qualificationDecided, key: q.atenaNo, body: decision)
        }
    }

    /// The collecting months of `count` insured months, counted back from March.
    static func months(_ count: Int) -> [Int] {
        let all = [4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3]
        return Array(all.suffix(max(0, min(12, count))))
    }

    mutating func take(through day: LocalDate) -> [OutgoingMessage] { pending.take(through: day) }

    private mutating func add<Body: Encodable>(_ day: LocalDate, type: String, key: String, body: Body) {
        serial += 1
        pending.add(day, factory.message(topic: UnionDecision.topic, type: type, id: "synth-\(seed)-koiki-\(serial)",
                                                         key: key, body: body, time: day))
    }
}
