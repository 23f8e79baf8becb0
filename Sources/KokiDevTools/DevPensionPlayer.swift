import Foundation
import Kafka
import KokiBase
import KokiCommands
import KokiEvents
import KokiStore
import KokiSynth
import Postgres

/// The 年金保険者's side of `koki-dev dev`, through 国保連: it answers each 特別徴収 request koki sent
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
    mutating func answer(_ requests: [PensionRequestStore.Request], today: LocalDate) {
        for r in requests {
            let refused = r.kind != .stop && chosen(r.atenaNo, percent: refusedPercent, salt: UInt64(r.fiscalYear))
            let reason = refused ? (chosen(r.atenaNo, percent: 50, salt: 2) ? "pension-stopped" : "amount-over-half") : nil
            let result = PensionRequestResult(atenaNo: r.atenaNo, fiscalYear: r.fiscalYear, requestId: r.requestID, accepted: !refused,
                                              reason: reason, amounts: refused || r.kind == .stop ? nil : r.amounts)
            serial += 1
            pending.add(today.adding(days: delayDays), factory.message(
                topic: "pension.deduction-targets.v1", type: PensionRequestResult.type, id: "synth-\(seed)-pension-result-\(serial)",
                key: r.atenaNo, body: result, time: today.adding(days: delayDays)))
        }
    }

    mutating func take(through day: LocalDate) -> [OutgoingMessage] { pending.take(through: day) }
}
