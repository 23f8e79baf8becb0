import Foundation
import KokiBase
import KokiDomain
import KokiEvents
import KokiStore
import Testing

/// The contract's shared rules: the same body is accepted or refused alike by every worker,
/// and no accepted value can push the domain's arithmetic out of range.
@Suite("Inbound rules")
struct InboundRulesTests {
    func decode<T: ValidatedBody>(_ type: T.Type, _ json: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(json.utf8))
    }

    func reason<T: ValidatedBody>(_ type: T.Type, _ json: String, key: String? = nil) throws -> String? {
        do {
            try decode(type, json).validate(key: key)
            return nil
        } catch let error as InvalidBody {
            return error.reason
        }
    }

    @Test func anOpenEndedDependencyDateIsRefused() throws {
        #expect(try reason(FormerDependentNotice.self, #"{"insurerName":"協会けんぽ","dependentUntil":"9999-12-31"}"#)
                == "dependentUntil is out of range")
        #expect(try reason(FormerDependentNotice.self, #"{"insurerName":"協会けんぽ","dependentUntil":"2026-03-31"}"#) == nil)
    }

    @Test func pensionAmountsAreBounded() throws {
        let body = #"{"atenaNo":"0000000001","fiscalYear":2026,"pensionAnnualAmount":2000000,"pensionPerPayment":333333,"#
            + #""longTermCarePremiumDeducted":true,"longTermCarePremiumPerPayment":9223372036854775807}"#
        #expect(try reason(PensionDeductionTarget.self, body, key: "0000000001") == "longTermCarePremiumPerPayment is out of range")
        let negative = body.replacingOccurrences(of: "9223372036854775807", with: "-1")
        #expect(try reason(PensionDeductionTarget.self, negative) == "longTermCarePremiumPerPayment must not be negative")
    }

    @Test func deductibilityNeverOverflows() {
        #expect(!Installments.pensionDeductible(annualPremium: 58_900, pensionAnnual: 2_000_000, pensionPerPayment: .max,
                                                longTermCareDeducted: true, longTermCarePerPayment: .max))
        #expect(!Installments.pensionDeductible(annualPremium: .max, pensionAnnual: .max, pensionPerPayment: .max,
                                                longTermCareDeducted: true, longTermCarePerPayment: .max / 2))
        #expect(!Installments.pensionDeductible(annualPremium: 58_900, pensionAnnual: 2_000_000, pensionPerPayment: 333_333,
                                                longTermCareDeducted: true, longTermCarePerPayment: -1))
    }

    @Test func textIsBoundedInBytesAndFreeOfControlCharacters() throws {
        let combining = "あ" + String(repeating: "\u{3099}", count: 10_000)  // one grapheme, 30 kB
        #expect(combining.count == 1)
        #expect(throws: InvalidBody("insurerName is longer than 200 characters")) {
            try InboundRules.text(combining, "insurerName", max: 200)
        }
        #expect(throws: InvalidBody("caseNo contains a control character")) { try InboundRules.text("W-1\u{0}", "caseNo", max: 40) }
        #expect(throws: InvalidBody("caseNo contains a control character")) { try InboundRules.text("W-1\u{85}", "caseNo", max: 40) }
        try InboundRules.text("川口市本町4-1-1", "line", max: 300)
    }

    @Test func aPersonsEventIsKeyedByTheirAtenaNo() throws {
        let body = #"{"atenaNo":"0000000001","receivedDate":"2026-05-01","applicationNo":"A-1"}"#
        #expect(try reason(CounterApplication.self, body, key: "0000000001") == nil)
        #expect(try reason(CounterApplication.self, body, key: "0000000002") == "the Kafka key is not the event's atenaNo")
        #expect(try reason(CounterApplication.self, body.replacingOccurrences(of: "A-1", with: "")) == "applicationNo is empty")
    }

    @Test func paymentsKeepTheirNarrowerBounds() throws {
        let ok = #"{"paymentId":"P-1","atenaNo":"0000000001","amount":7500,"paidOn":"2026-07-30","channel":"bank"}"#
        #expect(try reason(PaymentRecord.self, ok) == nil)
        #expect(try reason(PaymentRecord.self, ok.replacingOccurrences(of: "2026-07-30", with: "1999-12-31")) == "paidOn is out of range")
        #expect(try reason(PaymentRecord.self, ok.replacingOccurrences(of: "7500", with: "100000001")) == "amount is out of range")
        #expect(try reason(PaymentRecord.self, ok.replacingOccurrences(of: "7500", with: "0")) == "amount must be at least 1")
        #expect(try reason(PaymentRecord.self, ok.replacingOccurrences(of: "P-1", with: "P 1")) != nil)
    }
}

/// H2: which business days a worker accepts.
@Suite("Business clock rule")
struct ClockRuleTests {
    let d = { (text: String) in LocalDate(iso: text)! }
    // 2026-07-01 12:00 in Tokyo.
    let now = Date(timeIntervalSince1970: 1_782_874_800)

    @Test func todayIsTokyos() {
        #expect(LocalDate.todayInTokyo(now) == d("2026-07-01"))
        // 2026-06-30 15:00 UTC is already 1 July in Tokyo.
        #expect(LocalDate.todayInTokyo(Date(timeIntervalSince1970: 1_782_831_600)) == d("2026-07-01"))
        #expect(LocalDate.todayInTokyo(Date(timeIntervalSince1970: 1_782_831_599)) == d("2026-06-30"))
    }

    @Test func onlyTheNextPlausibleDayMovesTheCalendar() {
        let rule = ClockRule.standard
        let reasons = rule.refusals([d("2026-06-30"), d("2026-07-02"), d("2062-04-01"), d("2026-07-03"), d("2026-07-03"),
                                     d("2026-07-01")], after: d("2026-06-30"), now: now)
        #expect(reasons[0] == "date is not after the business day already reached (a late or repeated tick)")
        #expect(reasons[1] == nil, "tomorrow in Tokyo")
        #expect(reasons[2] == "date is more than 10 days after the business day already reached")
        #expect(reasons[3] == "date is more than a day ahead of today in Asia/Tokyo")
        #expect(reasons[5] == "date is not after the business day already reached (a late or repeated tick)")
        // 年末年始 with a weekend: 12/28 → 1/4 is within the window.
        #expect(ClockRule(windowDays: 10, latest: d("2027-12-31")).refusals([d("2027-01-04")], after: d("2026-12-28")) == [nil])
        #expect(rule.refusals([d("2026-04-01")], after: nil, now: now) == [nil], "the first day: only not in the future")
        #expect(rule.refusals([d("2026-07-03")], after: nil, now: now) != [nil])
    }

    @Test func theEnvironmentConfiguresItAndNamesWhatIsWrong() throws {
        #expect(try ClockRule.fromEnvironment([:]) == .standard)
        #expect(try ClockRule.fromEnvironment(["KOKI_CLOCK_WINDOW_DAYS": "400", "KOKI_CLOCK_LATEST": "2027-03-31"])
                == ClockRule(windowDays: 400, latest: d("2027-03-31")))
        #expect(throws: ClockRule.Invalid.self) { try ClockRule.fromEnvironment(["KOKI_CLOCK_WINDOW_DAYS": "0"]) }
        #expect(throws: ClockRule.Invalid.self) { try ClockRule.fromEnvironment(["KOKI_CLOCK_LATEST": "2027-02-30"]) }
    }
}

/// M7: koki's topics are created durable; each kind of topic keeps its messages only as long as
/// its readers need them, and the calendar and the audit checkpoints are kept.
@Suite("Topic configs")
struct TopicConfigTests {
    let day = 86_400_000

    @Test func everyTopicIsDurableAndKeepsItsKindsRetention() {
        let retention = Topics.Retention(inboundDays: 21, outboundDays: 9, deadLetterDays: 5)
        var seen: [String: Int] = [:]
        for topic in Topics.all {
            let configs = Topics.configs(of: topic.name, replicationFactor: 3, retention: retention)
            #expect(configs["min.insync.replicas"] == "2", "\(topic.name)")
            #expect(configs["cleanup.policy"] == "delete")
            let kept = configs["retention.ms"]!
            seen[kept, default: 0] += 1
            if topic.name.hasSuffix(".dlq") {
                #expect(kept == String(5 * day), "\(topic.name)")
            } else if topic.name.hasPrefix("transfer.") || topic.name == "koki.notices.v1" {
                #expect(kept == String(9 * day), "\(topic.name)")
            } else if topic.name == "clock.business-day.v1" || topic.name == "koki.audit-checkpoints.v1" {
                #expect(kept == "-1", "\(topic.name)")
            } else {
                #expect(kept == String(21 * day), "\(topic.name)")
            }
        }
        // Every kind is there: upstream and internal, outbound, dead letters, kept.
        #expect(seen.count == 4)
        #expect(seen[String(9 * day)] == Topics.outbound.count + 1)
        #expect(seen["-1"] == 2)
        #expect(Topics.configs(of: "x", replicationFactor: 1, retention: .standard)["min.insync.replicas"] == "1")
        #expect(Topics.configs(of: "x", replicationFactor: 2, retention: .standard)["min.insync.replicas"] == "1")
        #expect(Topics.configs(of: "resident.changes.v1.dlq", replicationFactor: 3, retention: .standard)["retention.ms"] == String(14 * day))
    }
}

/// `koki clock`'s plan: business days only, caught up in order, never in a year without holidays.
@Suite("Business-day schedule")
struct ClockScheduleTests {
    let d = { (text: String) in LocalDate(iso: text)! }

    @Test func catchesUpBusinessDaysOnlyAcrossTheYearEnd() throws {
        let holidays: Set<LocalDate> = [d("2027-01-11"), d("2026-12-23")].reduce(into: []) { $0.insert($1) }
        let days = try ClockSchedule.days(after: d("2026-12-24"), through: d("2027-01-12"), holidays: holidays, coveredYears: [2026, 2027])
        #expect(days.map(\.description) == ["2026-12-25", "2026-12-28", "2027-01-04", "2027-01-05", "2027-01-06", "2027-01-07",
                                             "2027-01-08", "2027-01-12"], "weekends, 12/29–1/3 and 成人の日 skipped")
        #expect(try ClockSchedule.days(after: d("2027-01-12"), through: d("2027-01-12"), holidays: holidays, coveredYears: [2027]).isEmpty)
        #expect(throws: ClockSchedule.Unplannable.self) {
            try ClockSchedule.days(after: d("2030-12-30"), through: d("2031-01-06"), holidays: [], coveredYears: [2030])
        }
    }

    @Test func aDayIsDueFromItsTimeInTokyo() {
        // 2026-07-01 05:59 and 06:00 in Tokyo (20:59 and 21:00 UTC the day before).
        #expect(ClockSchedule.target(now: Date(timeIntervalSince1970: 1_782_853_140), atMinutes: 360) == d("2026-06-30"))
        #expect(ClockSchedule.target(now: Date(timeIntervalSince1970: 1_782_853_200), atMinutes: 360) == d("2026-07-01"))
    }
}
