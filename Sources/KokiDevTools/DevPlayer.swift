import Foundation
import Kafka
import KokiBase
import KokiCommands
import KokiEvents
import KokiStore
import KokiSynth
import PaymentWorker
import Postgres
import ResidentWorker
import TaxWorker

/// Plays a synthetic year through the real topics, day by day: the day's upstream events,
/// then — on a business day — the clock, each time waiting until every worker has applied
/// what was sent and the relay has published what they derived (so a day's facts are in before
/// its clock). 収納 follows the bills: once a 期割 is decided, its payments are scheduled by a
/// behaviour drawn per person (on time — at a convenience store, 速報 then 確報 —, late, never,
/// twice, without naming the 期, a failed 口座振替), the 年金保険者 answers 特別徴収 requests and
/// deducts the pension 期 on its paydays, and refunds decided are paid a week later.
final class DevPlayer: @unchecked Sendable {  // driven by one task
    let city: SyntheticCity
    let producer: KafkaProducer
    let conn: PostgresConnection
    let supervisor: Supervisor
    let stop: StopRequest
    let progress: (String, Bool) -> Void
    private(set) var sent: [String: Int] = [:]
    private(set) var published = 0
    private var payments = PaymentSchedule()
    private var union = UnionPlayer()
    private var pension = PensionPlayer()
    private var holidays: Set<LocalDate> = []

    /// Each worker's consumer group and the topics it reads.
    static let groups: [(group: String, topics: [String])] = [
        ("koki-resident-worker", ResidentHandler.topics), ("koki-tax-worker", TaxHandler.topics),
        ("koki-payment-worker", PaymentHandler.topics),
    ]

    init(city: SyntheticCity, producer: KafkaProducer, conn: PostgresConnection, supervisor: Supervisor, stop: StopRequest,
         progress: @escaping (String, Bool) -> Void) {
        self.city = city
        self.producer = producer
        self.conn = conn
        self.supervisor = supervisor
        self.stop = stop
        self.progress = progress
        payments.seed = city.options.seed
        union.seed = city.options.seed
        pension.seed = city.options.seed
    }

    /// Plays until the 年度's last day (or a stop); returns the last day played.
    func play() async throws -> LocalDate {
        holidays = try await conn.run { try TaxStore($0).holidays() }
        let factory = EventFactory(source: "urn:kawaguchi:scheduler")
        var index = 0
        var day = city.start.adding(days: -1)
        var lastPlans = day
        var qualificationsSince = "-infinity"
        let total = city.end.daysSinceEpoch - day.daysSinceEpoch + 1
        var played = day
        while day <= city.end, !stop.isRequested {
            var batch: [OutgoingMessage] = []
            while index < city.events.count, city.events[index].date <= day {
                batch.append(city.events[index].message)
                index += 1
            }
            batch += payments.take(through: day) + union.take(through: day) + pension.take(through: day)
            // The 年金保険者 deducts, on its payday (a business day), what the plans hold for that day.
            let payday = day
            for d in day.isBusinessDay(holidays: holidays) ? try await conn.run({ try PensionPlayer.deductions(on: payday, on: $0) }) : [] {
                batch.append(payments.deduction(d.atenaNo, fiscalYear: d.fiscalYear, no: d.no, amount: d.amount, on: day))
            }
            try await publish(batch)
            if day.isBusinessDay(holidays: holidays) {
                try await publish([factory.businessDay(day)])
                let (after, today) = (lastPlans, day)
                let decided = try await conn.run { conn in try PaymentSchedule.newInstallments(after: after, through: today, on: conn) }
                payments.schedule(decided, today: day)
                // The union's side: it decides a few days after koki's facts.
                let assessed = try await conn.run { try UnionPlayer.assessments(after: after, through: today, on: $0) }
                union.decide(assessed, today: day)
                let since = qualificationsSince
                let (changed, until) = try await conn.run { try UnionPlayer.qualifications(since: since, on: $0) }
                union.decide(changed, today: day)
                qualificationsSince = until
                // 国保連 passes koki's 特別徴収 requests on; the 年金保険者's answers come weeks later.
                pension.answer(try await conn.run { try PensionRequestStore($0).sent(after: after, through: today) }, today: day)
                lastPlans = day
                if day.weekday == 5 {  // Fridays: the refunds decided a week or more ago are paid, that day
                    let refunds = try await conn.run { try PaymentSchedule.unpaidRefunds(before: today.adding(days: -7), on: $0) }
                    payments.payRefunds(refunds, on: day)
                    try await publish(payments.take(through: day))
                }
            }
            played = day
            let n = day.daysSinceEpoch - city.start.daysSinceEpoch + 2
            progress("\(day)  day \(n)/\(total)  events sent \(published)", day.day == 1 || day == city.end)
            day = day.adding(days: 1)
        }
        return played
    }

    private func publish(_ messages: [OutgoingMessage]) async throws {
        guard !messages.isEmpty else { return }
        for chunk in stride(from: 0, to: messages.count, by: 5_000).map({ messages[$0..<min(messages.count, $0 + 5_000)] }) {
            let results = try await producer.send(Array(chunk))
            if let failure = results.first(where: { if case .failure = $0 { true } else { false } }), case .failure(let error) = failure {
                throw SupervisorError(description: "publishing failed: \(error)")
            }
        }
        for message in messages { sent[message.topic, default: 0] += 1 }
        published += messages.count
        try await waitQuiet()
    }

    /// Until every group has applied (or dead-lettered) all it was sent — the tax worker also
    /// what the relay published on koki's internal topic — and nothing waits in the outbox.
    private func waitQuiet(timeout: Duration = .seconds(600)) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            let progress = try await conn.run { try StackProgress.read($0) }
            if progress.settled(sent: sent) { return }
            if let child = supervisor.firstExited() {
                throw SupervisorError(description: "\(child.name) stopped during the play; see \(child.log)")
            }
            guard ContinuousClock.now < deadline else {
                throw SupervisorError(description: "the workers did not catch up within \(timeout) (handled \(progress.handled), "
                                      + "outbox pending \(progress.pending))")
            }
            try await Task.sleep(for: .milliseconds(15))
        }
    }
}

/// How far the stack has got: what each worker group has handled (applied or dead-lettered) per
/// topic, what the relay published on koki's internal topic, what still waits in the outbox.
struct StackProgress: Sendable {
    var handled: [String: [String: Int]] = [:]
    var internalPublished = 0
    var pending = 0

    static func read(_ conn: PostgresConnection) throws -> StackProgress {
        var progress = StackProgress()
        for row in try conn.query("""
            SELECT consumer_group, topic, sum(n)::bigint FROM (
                SELECT consumer_group, topic, count(*) AS n FROM inbox GROUP BY 1, 2
                UNION ALL SELECT consumer_group, topic, count(*) FROM dead_letters GROUP BY 1, 2) c GROUP BY 1, 2
            """) {
            progress.handled[try row.decode(String.self, at: 0), default: [:]][try row.decode(String.self, at: 1)] = try row.decode(Int.self, at: 2)
        }
        let outbox = try conn.query("""
            SELECT count(*) FILTER (WHERE topic = \(Topics.residentUpdates) AND published_at IS NOT NULL),
                   count(*) FILTER (WHERE published_at IS NULL AND held_at IS NULL) FROM outbox
            """)[0]
        progress.internalPublished = try outbox.decode(Int.self, at: 0)
        progress.pending = try outbox.decode(Int.self, at: 1)
        return progress
    }

    /// Every group has handled all that was `sent` (per topic) and the outbox is drained.
    func settled(sent: [String: Int]) -> Bool {
        pending == 0 && DevPlayer.groups.allSatisfy { group in
            group.topics.allSatisfy { topic in
                (handled[group.group]?[topic] ?? 0) >= (topic == Topics.residentUpdates ? internalPublished : sent[topic] ?? 0)
            }
        }
    }
}

/// 収納 as the banks, stores and pension offices deliver it, for what was billed.
struct PaymentSchedule: Sendable {
    struct Installment: Sendable {
        let atenaNo: String
        let fiscalYear: Int
        let method: String
        let no: Int
        let dueDate: LocalDate
        let amount: Int
    }

    var seed: UInt64 = 1
    /// Amount already scheduled per person, 年度, method and 期.
    private var scheduled: [String: Int] = [:]
    private var pending = DatedMessages()
    private var serial = 0
    private var references = 0
    private let factory = EventFactory(source: "urn:kawaguchi:shuno")

    /// The messages due on or before `day`, in date order.
    mutating func take(through day: LocalDate) -> [OutgoingMessage] { pending.take(through: day) }

    /// The installments of plans decided in (after, through].
    static func newInstallments(after: LocalDate, through: LocalDate, on conn: PostgresConnection) throws -> [Installment] {
        try conn.query("""
            SELECT i.atena_no, i.fiscal_year, i.method, i.installment_no, i.due_date, i.amount
            FROM installment_plans p JOIN installments i USING (atena_no, fiscal_year, revision)
            WHERE p.current AND p.decided_on > \(after) AND p.decided_on <= \(through)
            ORDER BY i.atena_no, i.fiscal_year, i.method, i.installment_no
            """).map {
            Installment(atenaNo: try $0.decode(at: 0), fiscalYear: try $0.decode(at: 1), method: try $0.decode(at: 2),
                        no: try $0.decode(at: 3), dueDate: try $0.decode(at: 4), amount: try $0.decode(at: 5))
        }
    }

    /// Each person's refunds decided and not yet paid (net of cancellations), when one of them
    /// was decided on or before `before`.
    static func unpaidRefunds(before: LocalDate, on conn: PostgresConnection) throws -> [(atenaNo: String, amount: Int)] {
        try conn.query("""
            SELECT atena_no, (coalesce(sum(amount) FILTER (WHERE entry = 'refund'), 0)
                              - coalesce(sum(amount) FILTER (WHERE entry = 'refund-paid'), 0))::bigint
            FROM ledger WHERE entry IN ('refund', 'refund-paid') GROUP BY atena_no
            HAVING coalesce(sum(amount) FILTER (WHERE entry = 'refund'), 0) > coalesce(sum(amount) FILTER (WHERE entry = 'refund-paid'), 0)
               AND bool_or(entry = 'refund' AND amount > 0 AND on_date <= \(before))
            ORDER BY atena_no
            """).map { (try $0.decode(String.self, at: 0), try $0.decode(Int.self, at: 1)) }
    }

    mutating func payRefunds(_ refunds: [(atenaNo: String, amount: Int)], on day: LocalDate) {
        for refund in refunds {
            add(day, kind: .refundPaid, atenaNo: refund.atenaNo, fiscalYear: nil, no: nil, amount: refund.amount, channel: .bank)
        }
    }

    /// Schedules what is newly billed: the part of each 期 not scheduled before.
    mutating func schedule(_ installments: [Installment], today: LocalDate) {
        for i in installments {
            let key = "\(i.atenaNo)|\(i.fiscalYear)|\(i.method)|\(i.no)"
            let more = i.amount - (scheduled[key] ?? 0)
            guard more > 0 else { continue }
            scheduled[key] = i.amount
            var random = SeededRandom(seed: seed &* 31 &+ (UInt64(i.atenaNo) ?? 0) &* 1_000_003 &+ UInt64(i.fiscalYear * 100 + i.no))
            let tomorrow = today.adding(days: 1)
            func onOrAfterTomorrow(_ d: LocalDate) -> LocalDate { max(d, tomorrow) }
            // 特別徴収: the 年金保険者 deducts on its payday what the plan holds then (`deduction`).
            if i.method == "pension" { continue }
            let early = onOrAfterTomorrow(i.dueDate.adding(days: -Int.random(in: 0...20, using: &random)))
            switch random.weighted([("on-time", 90), ("late", 5), ("never", 1), ("twice", 2), ("unnamed", 1), ("failed", 1)]) {
            case "on-time":
                // At a convenience store: its 速報 that day, the 確報 (which moves the money) three days on.
                references += 1
                let slip = "CVS-\(i.atenaNo)-\(i.fiscalYear)-\(i.no)-\(references)"
                add(early, kind: .cvsPreliminary, atenaNo: i.atenaNo, fiscalYear: i.fiscalYear, no: i.no, amount: more,
                    channel: .convenienceStore, paymentID: slip)
                add(early.adding(days: 3), kind: .received, atenaNo: i.atenaNo, fiscalYear: i.fiscalYear, no: i.no, amount: more,
                    channel: .convenienceStore, paymentID: slip, paidOn: early)
            case "late":
                add(onOrAfterTomorrow(i.dueDate.adding(days: Int.random(in: 5...40, using: &random))), kind: .received,
                    atenaNo: i.atenaNo, fiscalYear: i.fiscalYear, no: i.no, amount: more, channel: .bank)
            case "twice":
                add(early, kind: .received, atenaNo: i.atenaNo, fiscalYear: i.fiscalYear, no: i.no, amount: more, channel: .bank)
                add(early.adding(days: 2), kind: .received, atenaNo: i.atenaNo, fiscalYear: i.fiscalYear, no: i.no, amount: more,
                    channel: .convenienceStore)
            case "unnamed":
                add(early, kind: .received, atenaNo: i.atenaNo, fiscalYear: nil, no: nil, amount: more, channel: .bank)
            case "failed":
                // One reference per debit (a 期 raised later is debited again, under its own reference).
                references += 1
                let reference = "AT-\(i.atenaNo)-\(i.fiscalYear)-\(i.no)-\(references)"
                let due = onOrAfterTomorrow(i.dueDate)
                add(due, kind: .received, atenaNo: i.atenaNo, fiscalYear: i.fiscalYear, no: i.no, amount: more,
                    channel: .accountTransfer, paymentID: reference)
                add(due.adding(days: 3), kind: .transferFailed, atenaNo: i.atenaNo, fiscalYear: i.fiscalYear, no: i.no, amount: more,
                    channel: .accountTransfer, paymentID: reference)
                add(due.adding(days: 20), kind: .received, atenaNo: i.atenaNo, fiscalYear: i.fiscalYear, no: i.no, amount: more,
                    channel: .convenienceStore)
            default:
                break  // never pays: 督促, 催告, 延滞金
            }
        }
    }

    /// The 年金保険者's deduction of a pension 期 on its payday (published that day).
    mutating func deduction(_ atenaNo: String, fiscalYear: Int, no: Int, amount: Int, on day: LocalDate) -> OutgoingMessage {
        serial += 1
        let record = PaymentRecord(paymentId: "PEN-\(atenaNo)-\(fiscalYear)-\(no)", atenaNo: atenaNo, fiscalYear: fiscalYear,
                                   installmentNo: no, amount: amount, paidOn: day, creditedOn: day.adding(days: 2), channel: .pension)
        return factory.message(topic: "collection.payments.v1", type: PaymentRecord.Kind.pensionDeducted.rawValue,
                               id: "synth-\(seed)-payment-\(serial)", key: atenaNo, body: record, time: day)
    }

    private mutating func add(_ day: LocalDate, kind: PaymentRecord.Kind, atenaNo: String, fiscalYear: Int?, no: Int?, amount: Int,
                              channel: PaymentRecord.Channel, paymentID: String? = nil, paidOn: LocalDate? = nil) {
        serial += 1
        let id = "synth-\(seed)-payment-\(serial)"
        let record = PaymentRecord(paymentId: paymentID ?? "P-\(day)-\(String(serial).leftPadded(6))", atenaNo: atenaNo,
                                   fiscalYear: fiscalYear, installmentNo: no, amount: amount, paidOn: paidOn ?? day,
                                   creditedOn: (paidOn ?? day).adding(days: 2), channel: channel)
        pending.add(day, factory.message(topic: "collection.payments.v1", type: kind.rawValue, id: id, key: atenaNo,
                                                         body: record, time: day))
    }
}

/// Messages the players schedule for later days, handed out in date order when their day comes.
struct DatedMessages: Sendable {
    private var pending: [LocalDate: [OutgoingMessage]] = [:]

    mutating func add(_ day: LocalDate, _ message: OutgoingMessage) {
        pending[day, default: []].append(message)
    }

    /// The messages due on or before `day`, in date order (each once).
    mutating func take(through day: LocalDate) -> [OutgoingMessage] {
        let due = pending.keys.filter { $0 <= day }.sorted()
        defer { for d in due { pending[d] = nil } }
        return due.flatMap { pending[$0]! }
    }
}
