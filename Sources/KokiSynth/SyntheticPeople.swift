import KokiBase
import KokiDomain
import KokiEvents

/// Synthetic people for a city shaped like Kawaguchi: names and addresses are assembled
/// from parts (never a list of real people), 個人番号 are random with valid check digits.
public struct SyntheticPeople {
    public var random: SeededRandom

    public init(seed: UInt64) { random = SeededRandom(seed: seed) }

    static let familyParts: [(String, String)] = [
        ("山", "ヤマ"), ("川", "カワ"), ("田", "タ"), ("中", "ナカ"), ("木", "キ"), ("村", "ムラ"), ("石", "イシ"),
        ("井", "イ"), ("本", "モト"), ("野", "ノ"), ("森", "モリ"), ("林", "ハヤシ"), ("高", "タカ"), ("松", "マツ"),
        ("小", "コ"), ("大", "オオ"), ("原", "ハラ"), ("島", "シマ"), ("岡", "オカ"), ("藤", "フジ"),
    ]
    static let givenParts: [(String, String)] = [
        ("花", "ハナ"), ("和", "カズ"), ("正", "マサ"), ("明", "アキ"), ("恵", "ケイ"), ("健", "ケン"), ("幸", "ユキ"),
        ("春", "ハル"), ("秋", "アキ"), ("信", "ノブ"), ("光", "ミツ"), ("静", "シズ"), ("清", "キヨ"), ("達", "タツ"),
    ]
    static let givenEndings: [(String, String, ResidentChange.Sex)] = [
        ("子", "コ", .female), ("江", "エ", .female), ("美", "ミ", .female), ("代", "ヨ", .female),
        ("男", "オ", .male), ("夫", "オ", .male), ("雄", "オ", .male), ("郎", "ロウ", .male), ("一", "イチ", .male),
    ]
    /// Districts of the city, for addresses.
    static let districts = ["本町", "栄町", "幸町", "元郷", "芝", "青木", "前川", "戸塚", "安行", "神根", "新郷", "鳩ヶ谷本町"]

    public mutating func familyName() -> (kanji: String, kana: String) {
        let a = Self.familyParts.randomElement(using: &random)!
        let b = Self.familyParts.randomElement(using: &random)!
        return (a.0 + b.0, a.1 + b.1)
    }

    public mutating func givenName(_ sex: ResidentChange.Sex) -> (kanji: String, kana: String) {
        let a = Self.givenParts.randomElement(using: &random)!
        let b = Self.givenEndings.filter { $0.2 == sex }.randomElement(using: &random)!
        return (a.0 + b.0, a.1 + b.1)
    }

    public mutating func myNumber() -> String {
        let body = (0..<11).map { _ in Int.random(in: 0...9, using: &random) }
        return (body + [MyNumber.checkDigit(body)]).map(String.init).joined()
    }

    public mutating func kawaguchiAddress() -> ResidentChange.Address {
        let district = Self.districts.randomElement(using: &random)!
        let line = "川口市\(district)\(Int.random(in: 1...6, using: &random))-\(Int.random(in: 1...30, using: &random))-"
            + "\(Int.random(in: 1...20, using: &random))"
        let postal = "33\(Int.random(in: 2...4, using: &random))\(String(Int.random(in: 0...9999, using: &random)).leftPadded(4))"
        let katagaki = random.chance(25) ? "コーポ\(Self.districts.randomElement(using: &random)!)\(Int.random(in: 101...509, using: &random))号" : nil
        return ResidentChange.Address(postalCode: postal, cityCode: LocalGovernmentCode.kawaguchi, prefecture: "埼玉県",
                                      line: line, katagaki: katagaki)
    }

    /// An address in another prefecture (for moves in and out), or in another Saitama city.
    public mutating func elsewhere(inSaitama: Bool) -> ResidentChange.Address {
        let (prefecture, code, city) = inSaitama
            ? [("埼玉県", "111007", "さいたま市"), ("埼玉県", "112011", "川越市"), ("埼玉県", "112216", "草加市")]
                .randomElement(using: &random)!
            : [("東京都", "131130", "渋谷区"), ("東京都", "131211", "足立区"), ("千葉県", "122033", "市川市"),
               ("神奈川県", "141003", "横浜市")].randomElement(using: &random)!
        return ResidentChange.Address(postalCode: "1\(String(Int.random(in: 0...999_999, using: &random)).leftPadded(6))",
                                      cityCode: code, prefecture: prefecture,
                                      line: "\(city)\(Int.random(in: 1...9, using: &random))-\(Int.random(in: 1...30, using: &random))",
                                      katagaki: nil)
    }

    /// A birth date for someone of an age drawn from the city's pyramid (about one in eight 75+).
    public mutating func birthDate(on day: LocalDate, ageBand: ClosedRange<Int>? = nil) -> LocalDate {
        let band = ageBand ?? random.weighted([(0...14, 12), (15...39, 28), (40...64, 32), (65...74, 15), (75...99, 13)])
        let age = Int.random(in: band, using: &random)
        return day.adding(days: -(age * 365 + Int.random(in: 0...364, using: &random)))
    }

    /// A 世帯主's birth date: an adult, older households over-represented as in the city's
    /// register (with spouses of similar age and younger children, about one in eight is 75+).
    public mutating func headBirthDate(on day: LocalDate) -> LocalDate {
        birthDate(on: day, ageBand: random.weighted([(20...39, 30), (40...64, 38), (65...74, 17), (75...99, 15)]))
    }

    /// The birth date of a household's `member`-th person: the 世帯主 (0), a spouse of similar age
    /// (1), or a child at least 20 years younger than the head.
    public mutating func memberBirthDate(_ member: Int, head: LocalDate, on day: LocalDate) -> LocalDate {
        switch member {
        case 0: return headBirthDate(on: day)
        case 1: return head.adding(days: Int.random(in: -5 * 365...5 * 365, using: &random))
        default: return birthDate(on: day, ageBand: 0...max(0, min(head.age(on: day) - 20, 50)))
        }
    }

    /// A household's size, as the city's register has them.
    public mutating func householdSize() -> Int { random.weighted([(1, 35), (2, 32), (3, 17), (4, 12), (5, 4)]) }

    public mutating func sex() -> ResidentChange.Sex { random.chance(52) ? .female : .male }

    /// A year's income as 市民税課 delivers it, for someone of `age` at the end of `incomeYear`
    /// (nil under 15): pensions from 60, salaries before 70, a few with other income; 2 % 未申告.
    /// Pension and salary are revenues (収入), other income is 所得 (see the tax contract).
    public mutating func income(atenaNo: String, age: Int, incomeYear: Int) -> IncomeRecord? {
        guard age >= 15 else { return nil }
        let pension = age >= 60 ? Int.random(in: 300...3_000, using: &random) * 1000 : 0
        let salary = age < 70 && random.chance(age < 60 ? 75 : 25) ? Int.random(in: 500...8_000, using: &random) * 1000 : 0
        let other = random.chance(5) ? Int.random(in: 0...2_000, using: &random) * 1000 : 0
        let income = PersonIncome.estimate(pensionRevenue: pension, salaryRevenue: salary, otherIncome: other,
                                           aged65: age >= 65, incomeYear: incomeYear)
        let declared = !random.chance(2)
        let taxable = max(0, income.totalIncome - 430_000 - (pension > 0 ? 100_000 : 0))
        return IncomeRecord(atenaNo: atenaNo, incomeYear: incomeYear, declared: declared, totalIncome: income.totalIncome,
                            totalIncomeForAssessment: income.totalIncomeForAssessment, publicPensionIncome: pension,
                            salaryIncome: salary, otherIncome: other, taxableIncome: taxable, residentTaxExempt: taxable == 0)
    }
}

extension String {
    /// Left-padded with zeros to `width` (宛名番号 and the like).
    public func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
