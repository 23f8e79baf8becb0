import ArgumentParser
import Foundation
import KokiBase
import KokiDomain
import KokiEvents
import KokiSecrets
import KokiStore
import Postgres

/// `koki person <atenaNo>` — the counter inquiry: everything current about one person.
struct Person: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show everything current about one person (the counter inquiry; KOKI_DATABASE_URL or PG*).",
        discussion: "個人番号 is shown masked. Output holds personal data: do not paste it into tickets.")

    @Argument(help: "The person's 宛名番号 (10 digits).")
    var atenaNo: String?

    @Flag(help: "Find the person by 個人番号, read from standard input (never an argument: it would show in ps and shell history).")
    var byMyNumber = false

    @Flag(help: "Print JSON (dates YYYY-MM-DD or null).")
    var json = false

    @OptionGroup var read: ReadPurpose

    /// What the inquiry shows, as the access log names it.
    static let fieldsShown = ["宛名", "個人番号（マスク）", "住所", "世帯", "資格", "障害認定", "生活保護", "住所地特例", "元被扶養者",
                              "関係課の登録", "資格確認書", "賦課", "期割", "収納"]

    func validate() throws {
        if byMyNumber {
            guard atenaNo == nil else { throw ValidationError("give either a 宛名番号 or --by-my-number, not both") }
            return
        }
        guard let atenaNo, atenaNo.utf8.count == 10, atenaNo.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
            throw ValidationError("the 宛名番号 must be 10 digits")
        }
    }

    mutating func run() async throws {
        let opener = try keyOrFail { try MyNumberOpener.fromEnvironment() }
        let atenaNo: String
        if byMyNumber {
            let line = (readLine() ?? "").trimmingCharacters(in: .whitespaces)
            guard let number = MyNumber(line) else { throw fail("standard input is not a 個人番号 (12 digits with a valid check digit)") }
            let lookup = try keyOrFail { try MyNumberLookup.fromEnvironment() }
            guard let lookup else { throw fail("finding by 個人番号 needs the lookup key (\(MyNumberKeys.lookupVariable))") }
            let hash = lookup.hash(number.digits)
            let found = try await withDatabase(as: .clerk) { try ResidentStore($0).people(withMyNumberHash: hash) }
            guard let first = found.first else { throw fail("no person with that 個人番号") }
            guard found.count == 1 else { throw fail("\(found.count) people share that 個人番号: \(found.joined(separator: ", "))") }
            atenaNo = first
        } else {
            atenaNo = self.atenaNo!
        }
        let read = self.read
        let command = byMyNumber ? "person --by-my-number" : "person"
        guard let person = try await withDatabase(as: .clerk, { conn in
            try conn.transaction { tx in
                try read.record([atenaNo], command: command, fields: Self.fieldsShown, on: tx)
                return try PersonInquiry.load(atenaNo, on: tx, maskMyNumber: { MyNumberSealing.masked($0, atenaNo: atenaNo, opener: opener) })
            }
        }) else {
            throw fail("no person with 宛名番号 \(atenaNo)")
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(person), as: UTF8.self))
        } else {
            print(Self.summary(person))
        }
    }

    static func summary(_ p: PersonInquiry) -> String {
        func date(_ d: LocalDate?) -> String { d.map(Wareki.format) ?? "—" }
        func spans(_ list: [PersonInquiry.Span]) -> String {
            list.isEmpty ? "なし" : list.map { "\(date($0.from))〜\(date($0.through))\($0.detail.map { "（\($0)）" } ?? "")" }
                .joined(separator: "、")
        }
        var lines = [
            "宛名番号　　　\(p.atenaNo)",
            "世帯番号　　　\(p.householdNo ?? "—")",
            "氏名　　　　　\(p.nameKanji ?? "—")（\(p.nameKana ?? "—")）",
            "性別　　　　　\(p.sex == "female" ? "女" : p.sex == "male" ? "男" : "—")",
            "生年月日　　　\(date(p.birthDate))",
            "個人番号　　　\(p.myNumber ?? "—")",
            "住所　　　　　\([p.address?.line, p.address?.katagaki].compactMap { $0 }.joined(separator: " "))",
            "住民区分　　　\(p.residentStatus ?? "—")\(p.livesHere ? "（在住）" : "（非在住）")",
        ]
        if let death = p.deathDate { lines.append("死亡日　　　　\(date(death))") }
        lines.append("被保険者番号　\(p.insuredNumber ?? "—")　\(p.insured ? "被保険者" : "被保険者ではない")（\(date(p.asOf)) 現在）")
        lines.append("資格")
        if p.qualifications.isEmpty { lines.append("　なし") }
        for q in p.qualifications {
            let loss = q.lostOn.map { "　喪失 \(date($0))（\(Self.reasonLabel(q.lossReason ?? ""))）" } ?? ""
            lines.append("　取得 \(date(q.acquiredOn))（\(Self.reasonLabel(q.acquisitionReason))）\(loss)")
        }
        lines.append("障害認定　　　\(spans(p.disabilityCertified))")
        lines.append("生活保護　　　\(spans(p.publicAssistance))")
        lines.append("住所地特例　　\(spans(p.specialAddress))")
        lines.append("元被扶養者　　\(spans(p.formerDependent))")
        lines.append("資格確認書　　\(spans(p.certificates))")
        lines.append("所管課登録　　\(spans(p.enrollments))")
        for premium in p.premiums {
            let reduction = premium.reduction == "none" ? "軽減なし" : "\(Int(premium.reduction)! / 10)割軽減"
            lines.append("保険料（\(premium.fiscalYear)年度）\(premium.annualPremium.formatted())円　\(premium.months)か月　\(reduction)"
                         + (premium.provisional ? "　暫定（広域連合の決定前）" : "　広域連合決定 第\(premium.unionRevision ?? 0)版")
                         + (premium.kokiPremium.map { $0 != premium.annualPremium ? "　市の計算 \($0.formatted())円" : "" } ?? ""))
        }
        for item in p.discrepancies {
            lines.append("突合　　　　　\(item.kind)　\(item.fiscalYear.map { "\($0)年度　" } ?? "")市 \(item.kokiValue ?? "-")　広域連合 \(item.unionValue ?? "-")（\(date(item.openedOn))〜）")
        }
        if let ratio = p.burdenRatio { lines.append("負担割合　　　\(ratio / 10)割") }
        for i in p.installments {
            let state = i.balance == 0 ? "完納" : "未納 \(i.balance.formatted())円" + (i.dunnedOn.map { "（督促 \(date($0))）" } ?? "")
            lines.append("　\(i.fiscalYear)年度 第\(i.no)期（\(i.method == "pension" ? "特別徴収" : "普通徴収")）"
                         + "納期限 \(date(i.dueDate))　\(i.amount.formatted())円　\(state)")
        }
        for r in p.pensionRequests {
            let kind = ["request": "特別徴収依頼", "change": "特別徴収変更", "stop": "特別徴収中止"][r.kind] ?? r.kind
            let result = ["accepted": "受理", "refused": "不能"][r.result] ?? "回答待ち"
            lines.append("\(kind)　\(r.fiscalYear)年度　\(date(r.sentOn))　"
                         + r.amounts.map { "\($0.month)月 \($0.amount.formatted())円" }.joined(separator: "・")
                         + "　\(result)" + (r.resultReason.map { "（\($0)）" } ?? ""))
        }
        for fee in p.lateFees {
            lines.append("延滞金　　　　\(fee.fiscalYear)年度 第\(fee.no)期 \(fee.amount.formatted())円（未納 \(fee.balance.formatted())円）")
        }
        for o in p.overpayments {
            lines.append("\(o.kind == "refund" ? "還付" : "充当")　　　　　\(o.amount.formatted())円（\(date(o.decidedOn))）")
        }
        lines.append("世帯員　　　　" + (p.household.isEmpty ? "—" : p.household.map {
            "\($0.nameKanji)（\($0.relationshipToHead)\($0.insured ? "・被保険者" : "")）"
        }.joined(separator: "、")))
        return lines.joined(separator: "\n")
    }

    static func reasonLabel(_ reason: String) -> String { QualificationReason.label(reason) }
}

/// 資格の取得・喪失事由 in Japanese, for what the counter and the synthetic year's summary print.
package enum QualificationReason {
    package static func label(_ reason: String) -> String {
        [
            "age-75": "年齢到達", "moved-in": "転入", "disability-certified": "障害認定", "assistance-ended": "生活保護廃止",
            "moved-out": "転出", "died": "死亡", "assistance-started": "生活保護開始", "disability-withdrawn": "障害認定撤回",
        ][reason] ?? reason
    }
}
