import ArgumentParser
import Foundation
import Kafka
import KokiBase
import KokiCommands
import KokiDomain
import KokiEvents
import KokiStore
import KokiSynth
import Postgres
import TaxWorker

/// `koki-dev bench honsantei` — the July 本算定 through koki-tax-worker: a synthetic city's
/// residents, households, qualifications and income records are loaded with COPY, then one
/// business day (1 July) is produced and timed until every premium is decided and every
/// transfer and notice is published.
struct HonsanteiBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "honsantei",
        abstract: "Wall time of the July 本算定 for a synthetic city (income records of every resident).")

    @Option(help: "Synthetic residents (about one in eight is 75+).")
    var residents: Int = 600_000

    @Option(help: "The 年度 to assess.")
    var fiscalYear: Int = 2026

    mutating func run() async throws {
        let server = PostgresConnection.conninfo()
        let cluster = try MockKafkaCluster(brokers: 3)
        for topic in Topics.all {
            try cluster.createTopic(topic.name, partitions: topic.partitions, replicationFactor: 3)
        }
        let city = HonsanteiCity.make(residents: residents, fiscalYear: fiscalYear)
        print("synthetic city: \(city.residents.count) residents, \(city.periods.count) insured, "
              + "\(city.incomes.count) income records")
        let run = PipelineRun(cluster: cluster, server: server, tag: "\(UInt32.random(in: 0...UInt32.max))",
                              topics: TaxHandler.topics, handler: TaxHandler(after: nil, clock: .replay), batch: 100, perEvent: false)
        let (applied, published, _) = try await run.measure([EventFactory().businessDay(LocalDate(year: fiscalYear, month: 7, day: 1)!)],
                                                            prepare: { try city.load(into: $0) })
        BenchRecord.report(BenchFigure(name: "本算定 wall time, \(city.incomes.count) income records", value: applied, unit: "s",
                                       detail: String(format: "%d insured decided; transfers and notices published after %.3f s",
                                                      city.periods.count, published)))
    }
}

/// A synthetic city's store as the 本算定 reads it, made directly (not through events).
struct HonsanteiCity: Sendable {
    var residents: [[any PostgresEncodable]] = []
    var memberships: [[any PostgresEncodable]] = []
    var periods: [[any PostgresEncodable]] = []
    var incomes: [[any PostgresEncodable]] = []

    static func make(residents count: Int, fiscalYear: Int) -> HonsanteiCity {
        var people = SyntheticPeople(seed: 42)
        var city = HonsanteiCity()
        let start = LocalDate(year: fiscalYear, month: 4, day: 1)!
        let end = LocalDate(year: fiscalYear + 1, month: 3, day: 31)!
        let ageDay = LocalDate(year: fiscalYear - 1, month: 12, day: 31)!
        var n = 0
        while n < count {
            let size = min(count - n, people.householdSize())
            let household = String(1_000_000 + n)
            var headBirth = start
            for member in 0..<size {
                n += 1
                let atenaNo = String(n).leftPadded(10)
                let birth = people.memberBirthDate(member, head: headBirth, on: start)
                if member == 0 { headBirth = birth }
                let seventyFive = birth.birthday(75)
                let insured = seventyFive <= end
                city.residents.append([atenaNo, birth, insured ? String(atenaNo.suffix(8)) : nil, true, insured,
                                       start.adding(days: -1)])
                city.memberships.append([atenaNo, household, member == 0 ? "head" : member == 1 ? "spouse" : "child",
                                         start.adding(days: -365 * 3)])
                if insured { city.periods.append([atenaNo, seventyFive, "age-75", 1]) }
                guard let r = people.income(atenaNo: atenaNo, age: birth.legalAge(on: ageDay), incomeYear: fiscalYear - 1) else { continue }
                city.incomes.append([atenaNo, r.incomeYear, 1, "bench-income-\(atenaNo)", "assessed", r.declared, r.totalIncome,
                                     r.totalIncomeForAssessment, r.publicPensionIncome, r.salaryIncome, r.otherIncome,
                                     r.taxableIncome, r.residentTaxExempt])
            }
        }
        return city
    }

    func load(into conn: PostgresConnection) throws {
        _ = try conn.copyIn(table: "residents", columns: ["atena_no", "birth_date", "insured_number", "lives_here", "insured",
                                                          "as_of"], rows: residents)
        _ = try conn.copyIn(table: "household_memberships", columns: ["atena_no", "household_no", "relationship_to_head",
                                                                      "from_date"], rows: memberships)
        _ = try conn.copyIn(table: "qualification_periods", columns: ["atena_no", "acquired_on", "acquisition_reason",
                                                                      "history_no"], rows: periods)
        _ = try conn.copyIn(table: "incomes", columns: ["atena_no", "income_year", "history_no", "event_id", "kind", "declared",
                                                        "total_income", "total_income_for_assessment", "public_pension_income",
                                                        "salary_income", "other_income", "taxable_income", "resident_tax_exempt"],
                            rows: incomes)
        try conn.executeScript(unsafeSQL: "ANALYZE")
    }
}
