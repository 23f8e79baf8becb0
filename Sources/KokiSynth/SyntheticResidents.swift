import Kafka
import KokiBase
import KokiEvents

/// The resident register of a synthetic city over a period: everyone's current record on
/// the first day (the register handed over as 職権修正 snapshots), then moves in and out,
/// births, deaths, household changes and 住登外 registrations on later days. Deterministic
/// for a seed.
public struct SyntheticResidents {
    public struct Options: Sendable {
        public var residents = 20_000
        public var seed: UInt64 = 1
        public var start = LocalDate(year: 2026, month: 4, day: 1)!
        public var days = 365
        /// 宛名番号 and 世帯番号 start here, so two cities in one store do not collide.
        public var firstNumber = 1
        /// Percent of households registered as foreign residents (川口市: several percent).
        public var foreignPercent = 6.0

        public init() {}
    }

    /// One synthetic resident as the register created them, and how they leave (if they do).
    public struct Resident: Sendable {
        public let atenaNo: String
        public let householdNo: String
        public let member: Int
        public let birthDate: LocalDate
        public let status: ResidentChange.ResidentStatus
        public let arrivedOn: LocalDate
        /// The day they died or moved away within the period.
        public let leftOn: LocalDate?
        public let died: Bool
    }

    /// The events in effective-date order.
    public static func events(_ options: Options, factory: EventFactory = EventFactory(source: "urn:kawaguchi:juki")) -> [OutgoingMessage] {
        generate(options, factory: factory).events.map(\.message)
    }

    /// The events in effective-date order, each with its date, and the people created.
    public static func generate(_ options: Options, factory: EventFactory = EventFactory(source: "urn:kawaguchi:juki"))
        -> (events: [(date: LocalDate, message: OutgoingMessage)], residents: [Resident]) {
        var people = SyntheticPeople(seed: options.seed)
        var messages: [(LocalDate, OutgoingMessage)] = []
        var residents: [Resident] = []
        var number = options.firstNumber
        var eventNumber = 0
        func nextID() -> String {
            eventNumber += 1
            return "synth-\(options.seed)-\(eventNumber)"
        }
        func atena(_ n: Int) -> String { String(n).leftPadded(10) }
        var created = 0
        while created < options.residents {
            let householdNo = atena(number)
            let size = min(options.residents - created, people.householdSize())
            let family = people.familyName()
            let address = people.kawaguchiAddress()
            // Most households were here before the period; some move in during it.
            let arrival: (LocalDate, ResidentChange.Kind, ResidentChange.Address?) = people.random.chance(90)
                ? (options.start.adding(days: -1), .corrected, nil)
                : (options.start.adding(days: Int.random(in: 0..<options.days, using: &people.random)), .movedIn,
                   people.elsewhere(inSaitama: people.random.chance(40)))
            var headBirth = options.start
            let status: ResidentChange.ResidentStatus = people.random.chance(options.foreignPercent) ? .foreignResident : .resident
            for member in 0..<size {
                let atenaNo = atena(number + member)
                let sex = people.sex()
                let given = people.givenName(sex)
                let birth = people.memberBirthDate(member, head: headBirth, on: options.start)
                if member == 0 { headBirth = birth }
                let relationship: ResidentChange.Relationship = member == 0 ? .head : member == 1 ? .spouse : .child
                let person = ResidentChange.Person(
                    nameKanji: "\(family.kanji) \(given.kanji)", nameKana: "\(family.kana) \(given.kana)", sex: sex,
                    birthDate: min(birth, arrival.0), relationshipToHead: relationship, residentStatus: status,
                    address: address, previousAddress: arrival.2)
                let myNumber: String? = people.random.chance(97) ? people.myNumber() : nil
                let change = ResidentChange(atenaNo: atenaNo, myNumber: myNumber, householdNo: householdNo,
                                            change: .init(effectiveDate: arrival.0, notifiedDate: arrival.0), person: person)
                messages.append((arrival.0, factory.resident(arrival.1, change, id: nextID())))
                // Later in the period: some leave, some die, some start their own household.
                let later = arrival.0.adding(days: 1 + Int.random(in: 0..<max(1, options.days / 2), using: &people.random))
                let age = person.birthDate.age(on: later)
                var left: (LocalDate, Bool)? = nil
                defer {
                    residents.append(Resident(atenaNo: atenaNo, householdNo: householdNo, member: member, birthDate: person.birthDate,
                                              status: status, arrivedOn: arrival.0, leftOn: left?.0, died: left?.1 ?? false))
                }
                if people.random.chance(age >= 75 ? 6 : 0.3) {
                    left = (later, true)
                    let died = ResidentChange(atenaNo: atenaNo, myNumber: myNumber, householdNo: householdNo,
                                              change: .init(effectiveDate: later, notifiedDate: later.adding(days: 3)),
                                              person: person.with(deathDate: later))
                    messages.append((later, factory.resident(.died, died, id: nextID())))
                } else if people.random.chance(3) {
                    left = (later, false)
                    let next = people.elsewhere(inSaitama: people.random.chance(30))
                    let moved = ResidentChange(atenaNo: atenaNo, myNumber: myNumber, householdNo: householdNo,
                                               change: .init(effectiveDate: later, notifiedDate: later),
                                               person: person.with(nextAddress: next))
                    messages.append((later, factory.resident(.movedOut, moved, id: nextID())))
                } else if member > 1, people.random.chance(10) {
                    let own = atena(options.firstNumber + 5_000_000 + number + member)
                    let split = ResidentChange(atenaNo: atenaNo, myNumber: myNumber, householdNo: own,
                                               change: .init(effectiveDate: later, notifiedDate: later),
                                               person: person.with(relationship: .head))
                    messages.append((later, factory.resident(.householdChanged, split, id: nextID())))
                }
            }
            number += size
            created += size
        }
        let sorted = messages.enumerated().sorted { ($0.element.0, $0.offset) < ($1.element.0, $1.offset) }
        return (sorted.map { (date: $0.element.0, message: $0.element.1) }, residents)
    }
}

extension ResidentChange.Person {
    func with(deathDate: LocalDate? = nil, nextAddress: ResidentChange.Address? = nil,
              relationship: ResidentChange.Relationship? = nil) -> ResidentChange.Person {
        ResidentChange.Person(nameKanji: nameKanji, nameKana: nameKana, sex: sex, birthDate: birthDate,
                              relationshipToHead: relationship ?? relationshipToHead, residentStatus: residentStatus,
                              address: address, previousAddress: previousAddress,
                              nextAddress: nextAddress ?? self.nextAddress, deathDate: deathDate ?? self.deathDate)
    }
}
