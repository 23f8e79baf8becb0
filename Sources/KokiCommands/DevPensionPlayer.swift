import Foundation
import Kafka
import KokiBase
import KokiEvents
import KokiSynth
import Postgres

/// The 年金保険者's side of `koki dev`, through 国保連: it answers each 特別徴収 request koki sent
/// (`pension.request-result`) some weeks later — mostly accepted as asked, a realistic share
/// refused (the pension stopped, or the premium over half a payment) — and deducts, on each
/// pension payday, the pension 期 the current plans hold then (a refused or stopped deduction is
/// not taken). Every choice is drawn from the content (the 宛名番号), never from timing.
struct PensionPlayer: Sendable {
    var seed: UInt64 = 1
    /// The answer comes this many days after the request.
    let delayDays = 30
    /// The share of 依頼 refused, in percent.
    let refusedPercent: UInt64 = 3
    private var pending = DatedMessages()
    private var serial = 0
    private let factory = EventFactory(source: "urn:saitama:kokuhoren")

    struct Request: Sendable {
        let requestID: String
        let atenaNo: String
        let fiscalYear: Int
        let kind: String
        let amounts: [PensionRequestResult.Amount]
    }

    /// The requests koki sent in (after, through].
    static func requests(after: LocalDate, through: LocalDate, on conn: PostgresConnection) throws -> [Request] {
        try conn.query("""
            SELECT request_id, atena_no, fiscal_year, kind,
                   coalesce((SELECT string_agg((e->>'month') || ':' || (e->>'amount'), ',' ORDER BY n)
                             FROM jsonb_array_elements(amounts) WITH ORDINALITY AS x(e, n)), '')
            FROM pension_requests WHERE sent_on > \(after) AND sent_on <= \(through) ORDER BY atena_no, request_id
            """).map { row in
            let amounts = try row.decode(String.self, at: 4).split(separator: ",").compactMap { pair -> PensionRequestResult.Amount? in
                let parts = pair.split(separator: ":").compactMap { Int($0) }
                return parts.count == 2 ? .init(month: parts[0], amount: parts[1]) : nil
            }
            return Request(requestID: try row.decode(at: 0), atenaNo: try row.decode(at: 1), fiscalYear: try row.decode(at: 2),
                           kind: try row.decode(at: 3), amounts: amounts)
        }
    }

    /// The pension 期 of the current plans due on `day` (a payday), with what the plans hold for them.
    static func deductions(on day: LocalDate, on conn: PostgresConnection)
        throws -> [(atenaNo: String, fiscalYear: Int, no: Int, amount: Int)] {
        try conn.query("""
            SELECT i.atena_no, i.fiscal_year, i.installment_no, i.amount
            FROM installment_plans p JOIN installments i USING (atena_no, fiscal_year, revision)
            WHERE p.current AND i.method = 'pension' AND i.due_date = \(day) AND i.amount > 0
            ORDER BY i.atena_no, i.fiscal_year, i.installment_no
            """).map { (try $0.decode(at: 0), try $0.decode(at: 1), try $0.decode(at: 2), try $0.decode(at: 3)) }
    }

    func chosen(_ atenaNo: String, percent: UInt64, salt: UInt64) -> Bool {
        var random = SeededRandom(seed: seed &* 6_007 &+ (UInt64(atenaNo) ?? 0) &* 15_485_863 &+ salt)
        return UInt64.random(in: 0..<100, using: &random) < percent
    }

    /// Answers each request `delayDays` later: a 依頼 or 変更 refused for a few people (the same
    /// ones every run), otherwise accepted as asked; a 中止 always accepted.
    mutating func answer(_ requests: [Request], today: LocalDate) {
        for r in requests {
            let refused = r.kind != "stop" && chosen(r.atenaNo, percent: refusedPercent, salt: UInt64(r.fiscalYear))
            let reason = refused ? (chosen(r.atenaNo, percent: 50, salt: 2) ? "pension-stopped" : "amount-over-half") : nil
            let result = PensionRequestResult(atenaNo: r.atenaNo, fiscalYear: r.fiscalYear, requestId: r.requestID, accepted: !refused,
                                              reason: reason, amounts: refused || r.kind == "stop" ? nil : r.amounts)
            serial += 1
            pending.add(today.adding(days: delayDays), factory.message(
                topic: "pension.deduction-targets.v1", type: PensionRequestResult.type, id: "synth-\(seed)-pension-result-\(serial)",
                key: r.atenaNo, body: result, time: today.adding(days: delayDays)))
        }
    }

    mutating func take(through day: LocalDate) -> [OutgoingMessage] { pending.take(through: day) }
}
