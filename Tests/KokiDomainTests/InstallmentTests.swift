import Foundation
import KokiBase
import KokiDomain
import Testing

@Suite("期割 — installments")
struct InstallmentTests {
    /// The national holidays these cases touch (the store's table holds 2024–2030).
    let holidays: Set<LocalDate> = [d("2026-11-23"), d("2026-09-22"), d("2026-09-23"), d("2027-01-01")]

    @Test func ordinaryScheduleOfTheYear() {
        let plan = Installments.ordinary(58_900, fiscalYear: 2026, holidays: holidays)
        #expect(plan.map(\.dueDate) == ["2026-07-31", "2026-08-31", "2026-09-30", "2026-11-02", "2026-11-30", "2026-12-28",
                                        "2027-02-01", "2027-03-01"].map(d),
                "month ends; Saturdays and Sundays move to the next business day")
        #expect(plan.map(\.amount) == [7_800, 7_300, 7_300, 7_300, 7_300, 7_300, 7_300, 7_300], "the remainder in the first 期")
        #expect(plan.reduce(0) { $0 + $1.amount } == 58_900)
    }

    @Test func holidaysMoveTheDueDate() {
        let schedule = Installments.OrdinarySchedule(months: [(11, 23), (9, 22)])
        let plan = Installments.ordinary(20_000, fiscalYear: 2026, schedule: schedule, holidays: holidays)
        #expect(plan.map(\.dueDate) == [d("2026-11-24"), d("2026-09-24")])
    }

    @Test func midYearChangeUsesTheRemainingInstallments() {
        let plan = Installments.ordinary(7_700, fiscalYear: 2026, decidedOn: d("2026-10-15"), holidays: holidays)
        #expect(plan.count == 5 && plan.first?.dueDate == d("2026-11-02"))
        #expect(plan.map(\.amount) == [1_700, 1_500, 1_500, 1_500, 1_500])
        let late = Installments.ordinary(3_000, fiscalYear: 2026, decidedOn: d("2027-03-10"), holidays: holidays)
        #expect(late.map(\.dueDate) == [d("2027-04-30")] && late[0].amount == 3_000)
    }

    @Test func revisions() {
        let plan = Installments.ordinary(58_900, fiscalYear: 2026, holidays: holidays)
        let julyToSeptemberPaid = Dictionary(uniqueKeysWithValues: plan.prefix(3).map {
            (Installments.Key(method: .ordinary, no: $0.no), $0.amount)
        })
        // A decrease in October, July–September paid: they stand, the rest is re-split.
        let lower = Installments.revise(plan, to: 40_000, fiscalYear: 2026, decidedOn: d("2026-10-10"), paid: julyToSeptemberPaid,
                                        holidays: holidays)
        #expect(lower.reduce(0) { $0 + $1.amount } == 40_000)
        #expect(Array(lower.prefix(3)) == Array(plan.prefix(3)) && lower.count == 8 && lower[3].no == 4)
        // An increase on a pension plan: the deductions stay, the difference is billed by 普通徴収.
        let pension = Installments.pension(58_900, fiscalYear: 2026, previousFebruary: 7_000, holidays: holidays)!
        let higher = Installments.revise(pension, to: 70_000, fiscalYear: 2026, decidedOn: d("2026-09-10"), holidays: holidays)
        #expect(higher.filter { $0.method == .pension } == pension)
        #expect(higher.filter { $0.method == .ordinary }.reduce(0) { $0 + $1.amount } == 11_100)
        // A decrease on a pension plan stops the deduction after the decision; the due pension 期 stand.
        let stopped = Installments.revise(pension, to: 50_000, fiscalYear: 2026, decidedOn: d("2026-09-10"), holidays: holidays)
        #expect(stopped.filter { $0.method == .pension }.count == 3 && stopped.reduce(0) { $0 + $1.amount } == 50_000)
        #expect(stopped.filter { $0.method == .pension }.map(\.amount) == [7_000, 7_000, 7_000])
    }

    /// 減額更正 (DOMAIN.md 徴収): nobody owes, is dunned for or pays 延滞金 on more than the new
    /// annual amount — the unpaid 期 already due are lowered first, then the 期 not yet due, then
    /// what was paid (an over-payment).
    @Test func aDecreaseLowersTheUnpaidDueInstallmentsFirst() {
        let plan = Installments.ordinary(58_900, fiscalYear: 2026, holidays: holidays)   // 7,800 + 7 × 7,300
        let october = d("2026-10-10")
        // Nothing paid: 18,900 off the three 期 already due (22,400), oldest first; the future 期 stay.
        let unpaid = Installments.revise(plan, to: 40_000, fiscalYear: 2026, decidedOn: october, holidays: holidays)
        #expect(unpaid.map(\.amount) == [3_500, 7_300, 7_300, 7_300, 7_300, 7_300])
        #expect(unpaid.map(\.no) == [3, 4, 5, 6, 7, 8])
        #expect(unpaid.filter { $0.dueDate <= october }.reduce(0) { $0 + $1.amount } == 3_500)
        // The yen boundary: the same amount changes nothing; one yen less takes one yen off the oldest due 期.
        #expect(Installments.revise(plan, to: 58_900, fiscalYear: 2026, decidedOn: october, holidays: holidays) == plan)
        let oneYen = Installments.revise(plan, to: 58_899, fiscalYear: 2026, decidedOn: october, holidays: holidays)
        #expect(oneYen[0].amount == 7_799 && oneYen.reduce(0) { $0 + $1.amount } == 58_899)
        // Below what already fell due, nothing paid: the due 期 go, the rest is re-split.
        let low = Installments.revise(plan, to: 10_000, fiscalYear: 2026, decidedOn: october, holidays: holidays)
        #expect(low.allSatisfy { $0.dueDate > october } && low.reduce(0) { $0 + $1.amount } == 10_000)
        // Below what already fell due, all of it paid: the future 期 go, then the paid 期, latest first.
        let paid = Dictionary(uniqueKeysWithValues: plan.prefix(3).map { (Installments.Key(method: .ordinary, no: $0.no), $0.amount) })
        let refund = Installments.revise(plan, to: 10_000, fiscalYear: 2026, decidedOn: october, paid: paid, holidays: holidays)
        #expect(refund.map(\.amount) == [7_800, 2_200] && refund.map(\.no) == [1, 2])
        // Partly paid: only the unpaid part of a due 期 is lowered first.
        let partly = Installments.revise(plan, to: 55_000, fiscalYear: 2026, decidedOn: october,
                                         paid: [.init(method: .ordinary, no: 1): 5_000], holidays: holidays)
        #expect(partly.prefix(2).map(\.amount) == [5_000, 6_200] && partly.reduce(0) { $0 + $1.amount } == 55_000)
    }

    @Test func pensionDeduction() {
        let plan = Installments.pension(58_900, fiscalYear: 2026, previousFebruary: 7_000, holidays: holidays)!
        #expect(plan.map(\.dueDate) == ["2026-04-15", "2026-06-15", "2026-08-14", "2026-10-15", "2026-12-15", "2027-02-15"].map(d))
        #expect(plan.map(\.amount) == [7_000, 7_000, 7_000, 12_700, 12_600, 12_600])
        #expect(Installments.pension(58_900, fiscalYear: 2026, previousFebruary: nil, holidays: holidays) == nil)
        // A year below the 仮徴収: no 本徴収, the August 仮徴収 lowered to what the year leaves.
        #expect(Installments.pension(15_000, fiscalYear: 2026, previousFebruary: 7_000, holidays: holidays)!.map(\.amount)
                == [7_000, 7_000, 1_000])
    }

    /// 仮徴収 (介護保険法 140条 via 高確法 110条): April, June and August at last February's amount,
    /// on the pension paydays; the 本算定 sets the 本徴収 from what the 仮徴収 leaves.
    @Test func interimThenFinalCollection() {
        let interim = Installments.interim(previousFebruary: 7_000, fiscalYear: 2027, holidays: holidays)
        #expect(interim.map(\.dueDate) == ["2027-04-15", "2027-06-15", "2027-08-13"].map(d), "8/15/2027 is a Sunday")
        #expect(interim.map(\.amount) == [7_000, 7_000, 7_000] && interim.allSatisfy { $0.method == .pension })
        let july = d("2027-07-01")
        func final(_ amount: Int, continuing: Bool = true) -> [Installments.Installment] {
            Installments.afterInterim(amount, interim: interim, continuing: continuing, fiscalYear: 2027, decidedOn: july,
                                      holidays: holidays)
        }
        // (annual − 仮徴収) ÷ 3, rounded down to 100, the remainder in October.
        #expect(final(58_900).map(\.amount) == [7_000, 7_000, 7_000, 12_700, 12_600, 12_600])
        #expect(final(58_900).map(\.no) == [1, 2, 3, 4, 5, 6])
        // The boundary: a year equal to the 仮徴収 has no 本徴収; one yen more is a 1-yen October.
        #expect(final(21_000).map(\.amount) == [7_000, 7_000, 7_000])
        #expect(final(21_001).map(\.amount) == [7_000, 7_000, 7_000, 1])
        // Above the year: 本徴収 0, the 仮徴収 lowered latest first (what is deducted beyond is refunded).
        #expect(final(20_999).map(\.amount) == [7_000, 7_000, 6_999])
        #expect(final(9_000).map(\.amount) == [7_000, 2_000, 0])
        #expect(final(0).reduce(0) { $0 + $1.amount } == 0)
        // A late 本算定 (9/1): October's payday is within the 60 days a 依頼 needs — December and February share the rest.
        let late = Installments.afterInterim(58_900, interim: interim, continuing: true, fiscalYear: 2027, decidedOn: d("2027-09-01"),
                                             holidays: holidays)
        #expect(late.map(\.amount) == [7_000, 7_000, 7_000, 19_000, 18_900] && late.map(\.no) == [1, 2, 3, 5, 6])
        // Too late for any: the rest by 普通徴収.
        let tooLate = Installments.afterInterim(58_900, interim: interim, continuing: true, fiscalYear: 2027, decidedOn: d("2027-12-20"),
                                                holidays: holidays)
        #expect(tooLate.filter { $0.method == .pension }.count == 3 && tooLate.reduce(0) { $0 + $1.amount } == 58_900)
        // The deduction does not continue: the rest over the 普通徴収 期 still ahead.
        let ordinary = final(58_900, continuing: false)
        #expect(ordinary.filter { $0.method == .pension }.map(\.amount) == [7_000, 7_000, 7_000])
        #expect(ordinary.filter { $0.method == .ordinary }.reduce(0) { $0 + $1.amount } == 37_900)
        #expect(ordinary.filter { $0.method == .ordinary }.allSatisfy { $0.dueDate > july })
    }

    /// 平準化 (介護保険法 140条2項 ただし書): June and August become (a sixth of last year's premium,
    /// rounded down to 100, × 3 − April) ÷ 2, rounded down to 100 — when that differs from April by
    /// at least the threshold (秋田市's rule; the threshold is configuration).
    @Test func levelingEvensOutJuneAndAugust() {
        // 56,000 → a sixth 9,333 → 9,300; × 3 = 27,900 − 10,000 = 17,900 ÷ 2 = 8,950 → 8,900: 1,100 below April.
        let leveled = { (threshold: Int) in
            Installments.interim(previousFebruary: 10_000, fiscalYear: 2027,
                                 leveling: .init(previousAnnual: 56_000, threshold: threshold), holidays: holidays).map(\.amount)
        }
        #expect(leveled(1_100) == [10_000, 8_900, 8_900])
        #expect(leveled(1_101) == [10_000, 10_000, 10_000], "a difference under the threshold is not worth a notice")
        // Upward too: 120,000 → 20,000 × 3 − 5,000 = 55,000 ÷ 2 = 27,500.
        #expect(Installments.interim(previousFebruary: 5_000, fiscalYear: 2027, leveling: .init(previousAnnual: 120_000, threshold: 1_000),
                                     holidays: holidays).map(\.amount) == [5_000, 27_500, 27_500])
        // Half of last year already taken in April: June and August are not deducted.
        #expect(Installments.interim(previousFebruary: 30_000, fiscalYear: 2027, leveling: .init(previousAnnual: 50_000, threshold: 0),
                                     holidays: holidays).map(\.amount) == [30_000])
    }

    /// What the 年金保険者 must be told when a plan changes (介護保険法 136条・138条・140条 via 高確法 110条).
    @Test func pensionRequestsFollowThePlan() {
        let july = d("2026-07-01")
        let first = PensionRequests.firstYear(62_600, fiscalYear: 2026, decidedOn: july, startMonth: 10, holidays: holidays)!
        // Six collections after July 1: three by 普通徴収 (the rest, remainder first), three by pension (62,600 ÷ 6 → 10,400).
        #expect(first.map(\.method) == [.ordinary, .ordinary, .ordinary, .pension, .pension, .pension])
        #expect(first.map(\.amount) == [10_600, 10_400, 10_400, 10_400, 10_400, 10_400] && first.map(\.no) == [1, 2, 3, 4, 5, 6])
        let requested = PensionRequests.needed(old: [], new: first, after: july)
        #expect(requested?.kind == .request && requested?.amounts.map(\.month) == [10, 12, 2])
        #expect(PensionRequests.needed(old: first, new: first, after: july) == nil, "nothing moved, nothing sent")
        // A later start: December's 依頼 leaves more to 普通徴収.
        let december = PensionRequests.firstYear(62_600, fiscalYear: 2026, decidedOn: d("2026-08-17"), startMonth: 12, holidays: holidays)!
        #expect(december.filter { $0.method == .pension }.map(\.dueDate.month) == [12, 2])
        #expect(december.reduce(0) { $0 + $1.amount } == 62_600)
        // The 本徴収 after a 仮徴収 is requested; a new amount is a 変更; no deduction left is a 中止.
        let interim = Installments.interim(previousFebruary: 7_000, fiscalYear: 2026, holidays: holidays)
        let final = Installments.afterInterim(58_900, interim: interim, continuing: true, fiscalYear: 2026, decidedOn: july, holidays: holidays)
        #expect(PensionRequests.needed(old: interim, new: final, after: july)?.kind == .request)
        let raised = Installments.afterInterim(70_000, interim: interim, continuing: true, fiscalYear: 2026, decidedOn: july, holidays: holidays)
        #expect(PensionRequests.needed(old: final, new: raised, after: july) == .init(kind: .change, amounts: [
            .init(month: 10, amount: 16_400), .init(month: 12, amount: 16_300), .init(month: 2, amount: 16_300)]))
        #expect(PensionRequests.needed(old: final, new: Array(final.prefix(3)), after: july) == .init(kind: .change, amounts: [
            .init(month: 10, amount: 0), .init(month: 12, amount: 0), .init(month: 2, amount: 0)]), "August's 仮徴収 still comes")
        #expect(PensionRequests.needed(old: final, new: Array(final.prefix(2)), after: july)?.kind == .stop)
        #expect(PensionRequests.needed(old: interim, new: [interim[0]], after: d("2026-05-22"))?.kind == .stop, "a death before July")
        #expect(PensionRequests.needed(old: interim, new: interim, after: july) == nil, "the 仮徴収 is deemed notified")
    }

    /// The first 本徴収 a 依頼 can reach: a payday at least 60 days after it [assumed, configuration].
    @Test func aRequestReachesThePaydayTwoMonthsOn() {
        #expect(PensionRequests.startMonth(requestedOn: d("2026-07-01"), fiscalYear: 2026, holidays: holidays) == 10)
        #expect(PensionRequests.startMonth(requestedOn: d("2026-08-16"), fiscalYear: 2026, holidays: holidays) == 10, "10/15 is 60 days on")
        #expect(PensionRequests.startMonth(requestedOn: d("2026-08-17"), fiscalYear: 2026, holidays: holidays) == 12)
        #expect(PensionRequests.startMonth(requestedOn: d("2026-12-20"), fiscalYear: 2026, holidays: holidays) == nil)
    }

    /// When a new entrant's deductions start, at each window's edges (介護保険法 134条・135条 via
    /// 高確法 110条; さいたま市's table by 取得日 for Saitama's practice).
    @Test func aNewEntrantStartsByTheCaptureWindow() {
        func start(_ day: String, _ year: Int = 2027) -> PensionRequests.Start { PensionRequests.start(insuredSince: d(day), fiscalYear: year) }
        #expect(start("2026-06-30", 2026) == .finalCollection, "4/1–6/30: from October of the same 年度")
        #expect(start("2026-07-01", 2026) == .later, "7/1 on: not within the 年度 (135条2項 not used)")
        #expect(start("2026-07-01") == .interim(month: 4))
        #expect(start("2026-10-02") == .interim(month: 4))
        #expect(start("2026-10-03") == .interim(month: 6))
        #expect(start("2026-12-02") == .interim(month: 6))
        #expect(start("2026-12-03") == .interim(month: 8))
        #expect(start("2027-02-02") == .interim(month: 8))
        #expect(start("2027-02-03") == .finalCollection, "from 2/3: from the next 年度's October")
        #expect(start("2020-05-01") == .interim(month: 4), "long insured, a target only now: from April")
    }

    @Test func pensionDeductionConditions() {
        #expect(Installments.pensionDeductible(annualPremium: 58_900, pensionAnnual: 1_970_000, pensionPerPayment: 328_333,
                                               longTermCareDeducted: true, longTermCarePerPayment: 12_000))
        #expect(!Installments.pensionDeductible(annualPremium: 58_900, pensionAnnual: 170_000, pensionPerPayment: 28_333,
                                                longTermCareDeducted: true, longTermCarePerPayment: 1_000), "under 180,000 a year")
        #expect(!Installments.pensionDeductible(annualPremium: 58_900, pensionAnnual: 1_970_000, pensionPerPayment: 328_333,
                                                longTermCareDeducted: false, longTermCarePerPayment: 0), "介護 not deducted")
        #expect(!Installments.pensionDeductible(annualPremium: 600_000, pensionAnnual: 1_200_000, pensionPerPayment: 200_000,
                                                longTermCareDeducted: true, longTermCarePerPayment: 10_000), "over half a payment")
    }
}

@Suite("試算 — koki estimate")
struct EstimateTests {
    func estimate(_ json: String) throws -> PremiumEstimate.Output {
        try PremiumEstimate.compute(JSONDecoder().decode(PremiumEstimate.Input.self, from: Data(json.utf8)))
    }

    @Test func singlePensionerR5() throws {
        let out = try estimate("""
            {"fiscalYear": 2023, "members": [{"id": "a", "insured": true, "head": true, "birthDate": "1944-05-01",
             "publicPensionIncome": 1970000, "salaryIncome": 0, "otherIncome": 0, "acquiredOn": null, "formerDependent": false}],
             "rates": null}
            """)
        #expect(out.members[0].annualPremium == 58_900 && out.members[0].reduction == "50" && out.members[0].months == 12)
        #expect(out.members[0].perCapitaAfterReduction == 22_085 && out.members[0].incomeShare == 36_872)
        // 計算根拠: every step a clerk explains, and the 5割 test exactly at its limit (DOMAIN.md's example).
        let basis = try #require(out.members[0].basis)
        #expect(basis.aged65 && basis.pensionDeduction == 1_100_000 && basis.pensionIncome == 870_000)
        #expect(basis.basicDeduction == 430_000 && basis.incomeBase == 440_000 && basis.caps == [660_000])
        #expect(basis.components[0].calculated == 22_085 + 36_872 && basis.components[0].annual == 58_900)
        #expect(out.reductionTest.total == 720_000 && out.reductionTest.base == 430_000)
        #expect(out.reductionTest.fiveTenthsLimit == 720_000 && out.reductionTest.reduction == .fifty)
        #expect(out.rules.count >= 5)
    }

    @Test func nonInsuredHeadAppearsWithZero() throws {
        let out = try estimate("""
            {"fiscalYear": 2023, "members": [
              {"id": "a", "insured": true, "head": false, "birthDate": "1944-05-01", "publicPensionIncome": 1530000,
               "salaryIncome": 0, "otherIncome": 0},
              {"id": "h", "insured": false, "head": true, "birthDate": "1970-05-01", "publicPensionIncome": 0,
               "salaryIncome": 3000000, "otherIncome": 0}]}
            """)
        #expect(out.members[0].reduction == "none" && out.members[0].annualPremium == 44_100)
        #expect(out.members[1].annualPremium == 0 && out.members[1].months == 0)
    }

    @Test func simulatedRatesAndAMidYearEntrant() throws {
        let out = try estimate("""
            {"fiscalYear": 2023, "members": [{"id": "a", "insured": true, "head": true, "birthDate": "1948-09-15",
             "publicPensionIncome": 2400000, "salaryIncome": 0, "otherIncome": 0, "acquiredOn": "2023-09-15"}],
             "rates": {"perCapita": 50500, "incomeRatePercent": "9.93", "cap": 660000, "fiveTenthsPerInsured": 290000,
                       "twoTenthsPerInsured": 535000}}
            """)
        // (50,500 + 870,000 × 9.93 % = 86,391) → 136,800 a year; September–March: 7 months.
        #expect(out.members[0].incomeShare == 86_391 && out.members[0].months == 7)
        #expect(out.members[0].annualPremium == Yen.floorTo100(136_800 * 7 / 12))
    }

    @Test("invalid input names the field", arguments: [
        (#"{"fiscalYear": 2023, "members": []}"#, "members is empty"),
        (#"{"fiscalYear": 1999, "members": []}"#, "fiscalYear is out of range (2008–2100)"),
        (#"{"fiscalYear": 2023, "members": [{"id": "a", "insured": true, "head": true, "birthDate": "1944-05-01", "publicPensionIncome": -5, "salaryIncome": 0, "otherIncome": 0}]}"#,
         "members[0].publicPensionIncome must not be negative"),
        (#"{"fiscalYear": 2023, "members": [{"id": "a", "insured": true, "head": true, "birthDate": "1944-05-01", "publicPensionIncome": 0, "salaryIncome": 0, "otherIncome": 0, "acquiredOn": "2022-01-01"}]}"#,
         "members[0].acquiredOn is not in fiscal year 2023"),
        (#"{"fiscalYear": 2023, "members": [{"id": "a", "insured": true, "head": true, "birthDate": "1944-05-01", "publicPensionIncome": 0, "salaryIncome": 0, "otherIncome": 0}], "rates": {"perCapita": 1, "incomeRatePercent": "x", "cap": 1, "fiveTenthsPerInsured": 1, "twoTenthsPerInsured": 1}}"#,
         "rates.incomeRatePercent is not a decimal percentage"),
    ])
    func invalid(_ json: String, _ message: String) {
        #expect(throws: PremiumEstimate.Invalid(description: message)) { try estimate(json) }
    }
}
