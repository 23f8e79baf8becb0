import Foundation
import KokiBase
import KokiDomain
import KokiEvents
import KokiSynth
import Testing

@Suite("Synthetic city")
struct SyntheticCityTests {
    static func city(_ seed: UInt64 = 3, residents: Int = 5_000) -> SyntheticCity {
        var options = SyntheticCity.Options()
        options.residents = residents
        options.seed = seed
        return SyntheticCity(options)
    }

    static func header(_ event: SyntheticCity.Event, _ name: String) -> String? {
        event.message.headers.first { $0.key == name }?.value.map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func theSameSeedGivesTheSameCity() {
        let (a, b, c) = (Self.city(), Self.city(), Self.city(4))
        #expect(a.events.count == b.events.count)
        #expect(zip(a.events, b.events).allSatisfy { $0.message.value == $1.message.value && $0.date == $1.date })
        #expect(a.events.map(\.message.value) != c.events.map(\.message.value), "another seed, another city")
    }

    @Test func kawaguchisProportions() {
        let city = Self.city(residents: 20_000)
        let old = city.residents.filter { $0.birthDate.age(on: city.start) >= 75 }.count
        #expect((0.10...0.15).contains(Double(old) / 20_000), "about one in eight is 75+ (\(old))")
        let households = Dictionary(grouping: city.residents, by: \.householdNo)
        let mean = Double(city.residents.count) / Double(households.count)
        #expect((1.8...2.6).contains(mean), "households of about two (\(mean))")
        let foreign = city.residents.filter { $0.status == .foreignResident }.count
        #expect(foreign > 0 && foreign < 20_000 / 8)
    }

    @Test func everyEventIsWellFormed() throws {
        let city = Self.city()
        let ids = city.events.compactMap { Self.header($0, "ce_id") }
        #expect(Set(ids).count == city.events.count, "every ce_id unique")
        #expect(zip(city.events, city.events.dropFirst()).allSatisfy { $0.date <= $1.date }, "in date order")
        var types = Set<String>()
        for event in city.events {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(event.message.value ?? [])) as? [String: Any])
            #expect(object["atenaNo"] as? String == event.message.key.map { String(decoding: $0, as: UTF8.self) },
                    "the key is the person's 宛名番号")
            if let number = object["myNumber"] as? String { #expect(MyNumber(number) != nil, "a valid check digit") }
            types.insert(Self.header(event, "ce_type") ?? "")
        }
        #expect(types.isSuperset(of: ["resident.corrected", "resident.moved-in", "resident.moved-out", "resident.died",
                                      "welfare.assistance-started", "tax.income-assessed", "pension.deduction-target",
                                      "application.disability-certification", "application.funeral-expenses",
                                      "department.enrolled"]), "\(types.sorted())")
    }
}
