import ArgumentParser
import Foundation
import Kafka
import KokiBase
import KokiCommands
import KokiSynth

/// `koki-dev synth` — a synthetic city's year of upstream events, deterministic for a seed.
struct Synth: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate a synthetic city's year of upstream events (EVENTS.md): write them as JSON Lines or publish them.",
        discussion: """
            Names and addresses are assembled from parts, 個人番号 are random with valid check digits: no real \
            person is in it. The same --seed gives the same city. Each line of --out is one Kafka message: \
            {"date", "topic", "key", "headers", "value"}. Payments and the business-day clock are not generated \
            here (banks pay the bills koki issues; the calendar is the scheduler's): `koki-dev dev` plays both.
            """)

    @Option(help: "Residents (Kawaguchi has about 600,000).") var residents = 20_000
    @Option(help: "Seed.") var seed: UInt64 = 1
    @Option(help: "The (first) 年度 (1 April to 31 March).") var fiscalYear = 2026
    @Option(help: "How many 年度, one after the other.") var years = 1
    @Option(help: "Write the events to this JSON Lines file.") var out: String?
    @Flag(help: "Publish the events, in date order, to KOKI_KAFKA_BROKERS.") var publish = false

    func validate() throws {
        guard (100...2_000_000).contains(residents) else { throw ValidationError("--residents must be between 100 and 2,000,000") }
        guard out != nil || publish else { throw ValidationError("give --out FILE, --publish, or both") }
        guard (1...3).contains(years) else { throw ValidationError("--years must be 1, 2 or 3") }
    }

    mutating func run() async throws {
        var options = SyntheticCity.Options()
        options.residents = residents
        options.seed = seed
        options.fiscalYear = fiscalYear
        options.years = years
        let city = SyntheticCity(options)
        FileHandle.standardError.write(Data(Self.describe(city).utf8))
        if let out {
            guard FileManager.default.createFile(atPath: out, contents: nil),
                  let handle = FileHandle(forWritingAtPath: out) else { throw fail("cannot write \(out)") }
            defer { try? handle.close() }
            var buffer = Data()
            for event in city.events {
                buffer += Self.line(event)
                if buffer.count > 1 << 20 {
                    handle.write(buffer)
                    buffer.removeAll(keepingCapacity: true)
                }
            }
            handle.write(buffer)
            print("koki synth: \(city.events.count) events written to \(out)")
        }
        if publish {
            do {
                let producer = try KafkaProducer(config: try KafkaConfig.fromEnvironment(clientID: "koki-synth"))
                var failed = 0
                for start in stride(from: 0, to: city.events.count, by: 10_000) {
                    let chunk = city.events[start..<min(city.events.count, start + 10_000)].map(\.message)
                    failed += try await producer.send(chunk).filter { if case .failure = $0 { true } else { false } }.count
                }
                try await producer.flush(timeout: .seconds(30))
                guard failed == 0 else { throw fail("\(failed) events were not delivered") }
                print("koki synth: \(city.events.count) events published")
            } catch let error as KafkaError {
                throw fail(error.description)
            }
        }
    }

    static func line(_ event: SyntheticCity.Event) -> Data {
        let m = event.message
        var headers: [String: String] = [:]
        for h in m.headers { headers[h.key] = h.value.map { String(decoding: $0, as: UTF8.self) } }
        let value = m.value.flatMap { try? JSONSerialization.jsonObject(with: Data($0)) } ?? NSNull()
        let object: [String: Any] = ["date": event.date.description, "topic": m.topic,
                                     "key": m.key.map { String(decoding: $0, as: UTF8.self) } ?? NSNull(),
                                     "headers": headers, "value": value]
        var data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        data.append(0x0A)
        return data
    }

    /// The city in figures (to standard error): how it compares with Kawaguchi's proportions.
    static func describe(_ city: SyntheticCity) -> String {
        let people = city.residents
        let start = city.start
        let old = people.filter { $0.birthDate.age(on: start) >= 75 }.count
        let households = Dictionary(grouping: people, by: \.householdNo).mapValues(\.count)
        let sizes = Dictionary(grouping: households.values, by: { min($0, 5) }).mapValues(\.count)
        let foreign = people.filter { $0.status == .foreignResident }.count
        var types: [String: Int] = [:]
        for event in city.events {
            let type = event.message.headers.first { $0.key == "ce_type" }?.value.map { String(decoding: $0, as: UTF8.self) } ?? "?"
            types[type, default: 0] += 1
        }
        var lines = [
            "synthetic city: \(people.count) residents in \(households.count) households; 75+ on \(start): \(old) "
                + "(\(String(format: "%.1f", Double(old) * 100 / Double(max(1, people.count)))) %); foreign residents \(foreign)",
            "household sizes: " + sizes.keys.sorted().map { "\($0 == 5 ? "5+" : String($0)): \(sizes[$0]!)" }.joined(separator: ", "),
        ]
        lines += types.keys.sorted().map { "  \($0)  \(types[$0]!)" }
        return lines.joined(separator: "\n") + "\n"
    }
}
