import Foundation
import Kafka
import KokiBase
import KokiCommands
import KokiEvents
import KokiSynth

/// What `koki-dev chaos` feeds the stack: a synthetic city's upstream events, its business days,
/// and a corpus of bad input mixed in — each bad event something an upstream system could
/// really send wrong, every one of which must be dead-lettered with a reason, never lost.
struct ChaosInput {
    var upstream: [OutgoingMessage] = []
    var clock: [OutgoingMessage] = []
    var badCount = 0

    init(residents: Int, seed: UInt64, bad: Int, businessDay: (LocalDate) -> Bool) {
        var options = SyntheticCity.Options()
        options.residents = residents
        options.seed = seed
        let city = SyntheticCity(options)
        upstream = city.events.map(\.message)
        let factory = EventFactory(source: "urn:koki:chaos")
        var day = city.start
        while day <= city.end {
            if businessDay(day) { clock.append(factory.businessDay(day)) }
            day = day.adding(days: 1)
        }
        var random = SeededRandom(seed: seed &+ 4_242)
        let corpus = Self.badCorpus(bad, random: &random)
        badCount = corpus.count
        // Mixed in at random places.
        for message in corpus { upstream.insert(message, at: Int.random(in: 0...upstream.count, using: &random)) }
    }

    static func headers(_ type: String, _ id: String) -> [KafkaHeader] {
        [KafkaHeader("ce_specversion", "1.0"), KafkaHeader("ce_id", id), KafkaHeader("ce_type", type),
         KafkaHeader("ce_source", "urn:koki:chaos-bad"), KafkaHeader("ce_time", "2026-05-01T00:00:00Z"),
         KafkaHeader("content-type", "application/json")]
    }

    /// `count` bad events, cycling through the kinds.
    static func badCorpus(_ count: Int, random: inout SeededRandom) -> [OutgoingMessage] {
        let resident = #"{"atenaNo":"0099990001","myNumber":"123456789018","householdNo":"0099990001","change":{"effectiveDate":"2026-04-01","notifiedDate":"2026-04-01"},"person":{"nameKanji":"試験 太郎","nameKana":"シケン タロウ","sex":"male","birthDate":"1945-01-01","relationshipToHead":"head","residentStatus":"resident","address":{"postalCode":"3320012","cityCode":"112038","prefecture":"埼玉県","line":"川口市本町9-9-9","katagaki":null}}}"#
        let payment = #"{"paymentId":"P-BAD","atenaNo":"0099990001","fiscalYear":2026,"installmentNo":1,"amount":7500,"paidOn":"2026-07-30","creditedOn":"2026-08-03","channel":"bank"}"#
        var out: [OutgoingMessage] = []
        for i in 0..<count {
            let id = "chaos-bad-\(i)"
            let key = "0099990" + String(i % 1000).leftPadded(3)
            func msg(_ topic: String, _ type: String, _ body: [UInt8], headers: [KafkaHeader]? = nil) -> OutgoingMessage {
                OutgoingMessage(topic: topic, key: Array(key.utf8), value: body, headers: headers ?? Self.headers(type, id))
            }
            // The body names the same person as the key, so each event fails for its own defect.
            let resident = resident.replacingOccurrences(of: "0099990001", with: key)
            let payment = payment.replacingOccurrences(of: "0099990001", with: key)
            let r = Array(resident.utf8)
            switch i % 14 {
            case 0: out.append(msg("resident.changes.v1", "resident.moved-in", (0..<Int.random(in: 1...300, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }))
            case 1: out.append(msg("resident.changes.v1", "resident.moved-in", Array(r.prefix(Int.random(in: 1..<r.count, using: &random)))))
            case 2: out.append(msg("resident.changes.v1", "resident.moved-in", Array((String(repeating: "[", count: 5_000) + String(repeating: "]", count: 5_000)).utf8)))
            case 3: out.append(msg("collection.payments.v1", "payment.received", Array(payment.replacingOccurrences(of: "7500", with: "\"7500\"").utf8)))
            case 4: out.append(msg("collection.payments.v1", "payment.received", Array(payment.replacingOccurrences(of: "7500", with: "-7500").utf8)))
            case 5: out.append(msg("resident.changes.v1", "resident.moved-in", r + [0xC3, 0x28, 0xFF]))
            case 6: out.append(msg("resident.changes.v1", "resident.moved-in", Array(resident.replacingOccurrences(of: "123456789018", with: "123456789012").utf8)))
            case 7: out.append(msg("resident.changes.v1", "resident.teleported", r))
            case 8: out.append(msg("resident.changes.v1", "resident.moved-in", r, headers: Self.headers("resident.moved-in", id).map {
                $0.key == "ce_specversion" ? KafkaHeader("ce_specversion", "0.3") : $0 }))
            case 9: out.append(msg("resident.changes.v1", "resident.moved-in", Array(resident.replacingOccurrences(of: "1945-01-01", with: "1945-02-30").utf8)))
            case 10: out.append(msg("tax.income.v1", "tax.income-assessed", Array(#"{"atenaNo":"KEY","incomeYear":99999,"declared":true,"totalIncome":-5,"totalIncomeForAssessment":0,"publicPensionIncome":0,"salaryIncome":0,"otherIncome":0,"taxableIncome":0,"residentTaxExempt":true}"#.replacingOccurrences(of: "KEY", with: key).utf8)))
            case 11: out.append(msg("resident.changes.v1", "resident.moved-in", r, headers: Self.headers("resident.moved-in", id).filter { $0.key != "ce_id" }))
            case 12: out.append(msg("collection.payments.v1", "payment.received", Array(payment.replacingOccurrences(of: "\"2026-07-30\"", with: "\"not a date\"").utf8)))
            default:
                // Large: 900 kB of padding in a field nobody reads (a 10 MB body is refused by
                // the broker itself before koki sees it: message.max.bytes).
                let padded = payment.replacingOccurrences(of: "\"channel\":\"bank\"", with: "\"channel\":\"bank\",\"padding\":\"" + String(repeating: "x", count: 900_000) + "\"")
                out.append(msg("collection.payments.v1", "payment.received", Array(padded.replacingOccurrences(of: key, with: "0000000000").utf8)))
            }
        }
        return out
    }
}
