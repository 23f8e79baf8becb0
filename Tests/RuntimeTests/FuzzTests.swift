import Foundation
import Kafka
import KokiBase
import KokiStore
import KokiSynth
import PaymentWorker
import Postgres
import ResidentWorker
import TaxWorker
import Testing
@testable import WorkerRuntime

/// Random envelopes and bodies over every inbound type, applied through the real
/// `BatchProcessor` and each worker's real handler against PostgreSQL: the worker never traps,
/// every event is applied, skipped as a duplicate or dead-lettered with a reason that quotes
/// nothing, and the partition keeps flowing. `KOKI_FUZZ_CASES` (per worker, default 1,500)
/// and `KOKI_FUZZ_SEED` run more or other cases on demand.
@Suite("Fuzz: hostile input through every worker", .serialized)
struct FuzzTests {
    static let cases = Int(ProcessInfo.processInfo.environment["KOKI_FUZZ_CASES"] ?? "") ?? 1_500
    static let seed = UInt64(ProcessInfo.processInfo.environment["KOKI_FUZZ_SEED"] ?? "") ?? 20_261_207

    @Test func residentWorker() async throws {
        try await run(group: "koki-resident-worker", handler: ResidentHandler(myNumbers: TestKeys.intake), types: Fuzz.residentTypes)
    }

    @Test func taxWorker() async throws {
        try await run(group: "koki-tax-worker", handler: TaxHandler(after: nil), types: Fuzz.taxTypes)
    }

    @Test func paymentWorker() async throws {
        try await run(group: "koki-payment-worker", handler: PaymentHandler(after: nil), types: Fuzz.paymentTypes)
    }

    func run(group: String, handler: any EventHandler, types: [(topic: String, type: String)]) async throws {
        let conn = try await PostgresConnection.connect(try await MigratedDatabase.create())
        let processor = BatchProcessor(group: group, source: "urn:koki:fuzz", handler: handler)
        var fuzz = Fuzz(seed: Self.seed &+ UInt64(group.utf8.count), types: types)
        var next: [String: Int64] = [:]
        var total = 0, duplicates = 0
        while total < Self.cases {
            // One topic's batch at a time, as the loop applies them.
            let topic = types[Int.random(in: 0..<types.count, using: &fuzz.random)].topic
            let count = Int.random(in: 1...60, using: &fuzz.random)
            let first = next[topic] ?? 0
            let messages = (0..<count).map { fuzz.message(topic: topic, offset: first + Int64($0)) }
            let tp = TopicPartition(topic, 0)
            let expected = next[topic]
            let summary: BatchProcessor.Summary
            do {
                summary = try await conn.run { try processor.process(messages, tp: tp, expected: expected, on: $0) }
            } catch {
                Issue.record("a batch of \(topic) failed instead of applying or dead-lettering: \(error)")
                return
            }
            let accounted = summary.applied + summary.duplicates + summary.deadLettered.values.reduce(0, +)
            #expect(accounted == count, "every event applied, a duplicate, or dead-lettered")
            #expect(summary.nextOffsets == [tp: first + Int64(count)], "the partition moves on")
            next[topic] = first + Int64(count)
            total += count
            duplicates += summary.duplicates
        }
        let (sentTotal, skipped) = (total, duplicates)
        try await conn.run { conn throws in
            let (total, duplicates) = (sentTotal, skipped)
            let applied = try conn.count("SELECT count(*) FROM inbox")
            let dead = try conn.count("SELECT count(*) FROM dead_letters")
            #expect(applied + dead + duplicates == total)
            #expect(dead > total / 10 && applied > total / 10, "the cases reach both ends (applied \(applied), dead \(dead))")
            let reasons = try conn.query("SELECT DISTINCT reason FROM dead_letters").map { try $0.decode(String.self, at: 0) }
            for reason in reasons {
                #expect(!reason.isEmpty && reason.utf8.count <= 300)
                #expect(Fuzz.quoted.allSatisfy { !reason.contains($0) }, "a reason quotes a value: \(reason)")
            }
        }
    }
}

/// The generator: valid bodies for each type, then mutated the ways upstream systems and
/// attackers get things wrong.
struct Fuzz {
    /// A JSON value that keeps repeated names (objects as pairs).
    indirect enum J {
        case raw(String)
        case string(String)
        case object([(String, J)])
        case array([J])

        var text: String {
            switch self {
            case .raw(let text): return text
            case .string(let s):
                var out = "\""
                for scalar in s.unicodeScalars {
                    switch scalar {
                    case "\"": out += "\\\""
                    case "\\": out += "\\\\"
                    case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
                    default: out.unicodeScalars.append(scalar)
                    }
                }
                return out + "\""
            case .object(let pairs): return "{" + pairs.map { J.string($0.0).text + ":" + $0.1.text }.joined(separator: ",") + "}"
            case .array(let items): return "[" + items.map(\.text).joined(separator: ",") + "]"
            }
        }
    }

    static let residentTypes: [(topic: String, type: String)] =
        ["moved-in", "moved-out", "moved-within", "died", "born", "household-changed", "name-changed", "corrected",
         "nonresident-registered"].map { ("resident.changes.v1", "resident." + $0) }
        + ["started", "ended", "suspended", "resumed"].map { ("welfare.public-assistance.v1", "welfare.assistance-" + $0) }
        + counterTypes + [("department.enrollments.v1", "department.enrolled"), ("department.enrollments.v1", "department.unenrolled"),
                          ("clock.business-day.v1", "clock.business-day")]
    static let counterTypes: [(topic: String, type: String)] =
        ["disability-certification", "disability-withdrawal", "special-address-started", "special-address-ended", "former-dependent",
         "premium-reduction", "high-cost-medical", "funeral-expenses", "payment-method-change"]
        .map { ("counter.applications.v1", "application." + $0) }
    static let taxTypes: [(topic: String, type: String)] =
        [("tax.income.v1", "tax.income-assessed"), ("tax.income.v1", "tax.income-corrected"),
         ("pension.deduction-targets.v1", "pension.deduction-target"), ("koki.resident-updates.v1", "koki.resident-update"),
         ("clock.business-day.v1", "clock.business-day")] + counterTypes
    static let paymentTypes: [(topic: String, type: String)] =
        ["received", "transfer-failed", "pension-deducted", "refund-paid", "cvs-preliminary"].map { ("collection.payments.v1", "payment." + $0) }
        + [("clock.business-day.v1", "clock.business-day")]

    /// Strings no dead-letter reason may contain: the values the generator puts in bodies.
    static let quoted = ["試験", "シケン", "川口市", "123456789018", "9223372036854775807", "W-2026", "A-20", "P-", "{"]

    /// Deterministic for a seed (the synthetic city's generator).
    var random: SeededRandom
    let types: [(topic: String, type: String)]
    var sent: [(id: String, source: String, body: [UInt8])] = []
    let people = (1...12).map { String(format: "%010d", 4_000 + $0) }

    init(seed: UInt64, types: [(topic: String, type: String)]) {
        random = SeededRandom(seed: seed)
        self.types = types
    }

    mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &random) < percent }
    mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &random)] }

    mutating func date() -> J {
        if chance(80) {
            let day = LocalDate(iso: "2026-03-20")!.adding(days: Int.random(in: 0...400, using: &random))
            return .string(day.description)
        }
        return .string(pick(["0001-01-01", "9999-12-31", "9997-12-31", "2200-12-31", "2201-01-01", "1879-12-31", "1880-01-01",
                             "2026-02-29", "2024-02-29", "2026-13-01", "26-04-01", "", "2062-04-01"]))
    }

    mutating func yen() -> J {
        chance(80) ? .raw(String(Int.random(in: 0...3_000_000, using: &random)))
                   : .raw(pick(["0", "-1", "9223372036854775807", "-9223372036854775808", "100000000001", "1e308", "1.5",
                                "9007199254740993", "99999999999999999999"]))
    }

    mutating func text(_ normal: String) -> J {
        chance(85) ? .string(normal)
                   : .string(pick(["", "\u{0}", "a\u{0}b", String(repeating: "あ", count: 5_000),
                                   "あ" + String(repeating: "\u{3099}", count: 3_000), "\u{7}\u{1b}[2J", "😀👨‍👩‍👧",
                                   "\u{202e}evil", String(repeating: "x", count: 70)]))
    }

    mutating func atena() -> String {
        chance(95) ? pick(people) : pick(["", "123", "00000000001", "000000000a", "０１２３４５６７８９"])
    }

    mutating func address() -> J {
        .object([("postalCode", text("3320012")), ("cityCode", text(pick(["112038", "131130", "112011", "999999"]))),
                 ("prefecture", text(pick(["埼玉県", "東京都"]))), ("line", text("川口市本町4-1-1")),
                 ("katagaki", chance(30) ? text("コーポ101") : .raw("null"))])
    }

    /// A body of `type` that starts valid and is then, one time in three, broken somewhere.
    mutating func body(type: String, atenaNo: String) -> J {
        let a = J.string(atenaNo)
        var pairs: [(String, J)]
        switch type {
        case _ where type.hasPrefix("resident."):
            var person: [(String, J)] = [
                ("nameKanji", text("試験 花子")), ("nameKana", text("シケン ハナコ")), ("sex", .string(pick(["male", "female"]))),
                ("birthDate", chance(85) ? .string(pick(["1946-05-05", "1951-04-01", "1950-12-31", "1960-01-01"])) : date()),
                ("relationshipToHead", .string(pick(["head", "spouse", "child", "other"]))),
                ("residentStatus", .string(pick(["resident", "foreign-resident", "nonresident"]))), ("address", address()),
            ]
            if type.hasSuffix("moved-in") || chance(10) { person.append(("previousAddress", address())) }
            if type.hasSuffix("moved-out") || chance(10) { person.append(("nextAddress", address())) }
            if type.hasSuffix("died") || chance(5) { person.append(("deathDate", date())) }
            pairs = [("atenaNo", a), ("householdNo", text("00000090" + atenaNo.suffix(2))),
                     ("change", .object([("effectiveDate", date()), ("notifiedDate", date())])), ("person", .object(person))]
            if chance(30) { pairs.append(("myNumber", text(pick(["123456789018", "123456789012", "12345678901"])))) }
        case _ where type.hasPrefix("welfare."):
            pairs = [("atenaNo", a), ("householdNo", text("0000009001")), ("caseNo", text("W-2026-00001")), ("effectiveDate", date())]
        case _ where type.hasPrefix("application."):
            pairs = [("atenaNo", a), ("receivedDate", date()), ("applicationNo", text("A-2026-1"))]
            switch type {
            case "application.disability-certification": pairs += [("certifiedDate", date()), ("grade", text("1級"))]
            case "application.former-dependent": pairs += [("insurerName", text("協会けんぽ")), ("dependentUntil", date())]
            case "application.special-address-started", "application.special-address-ended":
                pairs += [("effectiveDate", date()), ("facilityName", text("特養川口")), ("previousInsurer", text("東京都広域連合"))]
            case "application.premium-reduction":
                pairs += [("fiscalYear", chance(80) ? .raw("2026") : yen()), ("reason", text("災害")),
                          ("reductionPercent", chance(80) ? .raw(pick(["0", "50", "100"])) : yen()), ("decidedDate", date())]
            case "application.funeral-expenses":
                pairs += [("deceasedAtenaNo", .string(atena())), ("funeralDate", date()), ("bankAccountRef", text("B-1"))]
            case "application.high-cost-medical": pairs += [("bankAccountRef", text("B-1"))]
            case "application.payment-method-change": pairs += [("bankAccountRef", text("B-1")), ("effectiveDate", date())]
            default: pairs += [("effectiveDate", date())]
            }
        case _ where type.hasPrefix("department."):
            pairs = [("atenaNo", a), ("department", text(pick(["welfare-livelihood", "disability-welfare", "child-development"]))),
                     ("program", text("重度心身障害者医療費助成")), ("effectiveDate", date())]
        case "clock.business-day":
            pairs = [("date", date())]
        case _ where type.hasPrefix("tax.income"):
            pairs = [("atenaNo", a), ("incomeYear", chance(80) ? .raw("2025") : yen()), ("declared", .raw("true")),
                     ("totalIncome", yen()), ("totalIncomeForAssessment", yen()), ("publicPensionIncome", yen()),
                     ("salaryIncome", yen()), ("otherIncome", yen()), ("taxableIncome", yen()),
                     ("residentTaxExempt", .raw(pick(["true", "false"])))]
        case "pension.deduction-target":
            pairs = [("atenaNo", a), ("fiscalYear", chance(80) ? .raw("2026") : yen()), ("pensionAnnualAmount", yen()),
                     ("pensionPerPayment", yen()), ("longTermCarePremiumDeducted", .raw("true")),
                     ("longTermCarePremiumPerPayment", yen())]
        case "koki.resident-update":
            pairs = [("atenaNo", a), ("householdNo", text("0000009001")), ("effectiveDate", date()), ("asOf", date())]
        default:  // payment.*
            pairs = [("paymentId", text("P-\(Int.random(in: 0...99_999, using: &random))")), ("atenaNo", a),
                     ("amount", chance(85) ? .raw(String(Int.random(in: 100...80_000, using: &random))) : yen()),
                     ("paidOn", date()), ("creditedOn", date()), ("channel", .string(pick(["bank", "pension", "counter", "atm"])))]
            if chance(60) { pairs += [("fiscalYear", .raw("2026")), ("installmentNo", .raw(String(Int.random(in: 0...21, using: &random))))] }
        }
        guard chance(35) else { return .object(pairs) }
        // Break it: a field replaced, dropped, repeated, or the whole shape.
        let i = Int.random(in: 0..<pairs.count, using: &random)
        switch Int.random(in: 0..<8, using: &random) {
        case 0: pairs.remove(at: i)
        case 1: pairs[i].1 = .raw("null")
        case 2: pairs.append((pairs[i].0, pick([.string("B-1"), .object([("myNumber", .string("123456789018"))]), .raw("0")])))
        case 3: pairs[i].1 = .raw(String(repeating: "[", count: 600) + String(repeating: "]", count: 600))
        case 4: pairs[i].1 = .object([("nested", .array([.raw("1"), .string("x")]))])
        case 5: pairs[i].1 = yen()
        case 6: pairs[i].1 = date()
        default: pairs.append(("unexpected", .string("field")))
        }
        return .object(pairs)
    }

    mutating func message(topic: String, offset: Int64) -> ConsumedMessage {
        let choices = types.filter { $0.topic == topic }
        var type = pick(choices).type
        let atenaNo = atena()
        var bytes = Array(body(type: type, atenaNo: atenaNo).text.utf8)
        var id = "fuzz-\(offset)-\(topic)"
        var source = pick(["urn:kawaguchi:jyuki", "urn:kawaguchi:counter", "urn:kawaguchi:shuno"])
        var key: [UInt8]? = topic == "clock.business-day.v1" ? Array("clock".utf8) : Array(atenaNo.utf8)
        var headers: [KafkaHeader] = []
        var specversion = "1.0", contentType = "application/json"
        // The envelope, broken one time in six.
        if chance(17) {
            switch Int.random(in: 0..<12, using: &random) {
            case 0: id = "a\u{0}b"
            case 1: id = String(repeating: "x", count: 4_096)
            case 2: key = Array("0000000001\u{0}".utf8)
            case 3: key = [0xff, 0xfe]
            case 4: type = pick(["sample.item-updated", "resident.unknown", "", "payment.received\u{0}"])
            case 5: specversion = "0.3"
            case 6: contentType = "text/plain"
            case 7: bytes = [0xff, 0xfe, 0x7b, 0x7d]
            case 8: bytes = Array("{\"atenaNo\":\"\(atenaNo)\"".utf8)
            case 9: headers.append(KafkaHeader("x-binary", [0x41, 0x00, 0x42]))
            case 10: source = "urn:\u{7}bell"
            default: bytes = Array("[1,2,3]".utf8)
            }
        }
        // A redelivery: the same id and source, with the same body (a duplicate) or another (a conflict).
        if chance(8), !sent.isEmpty {
            let earlier = sent[Int.random(in: 0..<sent.count, using: &random)]
            id = earlier.id
            source = earlier.source
            if chance(50) { bytes = earlier.body }
        }
        sent.append((id, source, bytes))
        if sent.count > 200 { sent.removeFirst(100) }
        headers = [KafkaHeader("ce_specversion", specversion), KafkaHeader("ce_id", id), KafkaHeader("ce_type", type),
                   KafkaHeader("ce_source", source), KafkaHeader("ce_time", "2026-07-01T00:00:00Z"),
                   KafkaHeader("content-type", contentType)] + headers
        let timestamp: Int64? = chance(3) ? pick([.max, .min, -1, nil]) : 1_795_000_000_000
        return ConsumedMessage(topic: topic, partition: 0, offset: offset, key: key, value: bytes, headers: headers,
                               timestampMillis: timestamp)
    }
}
