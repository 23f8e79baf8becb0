import Foundation
import Kafka
import Testing

/// kcat — a client nobody here wrote — on the same wire as the Swift wrapper.
@Suite("Kafka interop with kcat")
struct InteropTests {
    @Test("a message produced with kcat is consumed by the Swift consumer", arguments: BrokerKind.allCases)
    func kcatToSwift(kind: BrokerKind) async throws {
        let broker = try await kind.topic(partitions: 1)
        let input = "0000123456|{\"atenaNo\":\"0000123456\",\"name\":\"川口 花子\"}\n0000000002|second\n"
        _ = try runKcat(["-P", "-b", broker.config.bootstrapServers, "-t", broker.topic, "-K", "|",
                         "-H", "ce_id=kcat-1", "-H", "ce_type=resident.moved-in"], input: input)
        let consumer = try KafkaConsumer(config: broker.consumerConfig, groupID: uniqueName("g"))
        try consumer.subscribe([broker.topic])
        let messages = try await consume(consumer, count: 2)
        try await consumer.close()
        #expect(messages.map(\.keyText) == ["0000123456", "0000000002"])
        #expect(messages.first?.valueText == "{\"atenaNo\":\"0000123456\",\"name\":\"川口 花子\"}")
        #expect(messages.allSatisfy { $0.headers.text("ce_id") == "kcat-1" && $0.headers.text("ce_type") == "resident.moved-in" })
    }

    @Test("a message produced by the Swift producer is consumed by kcat", arguments: BrokerKind.allCases)
    func swiftToKcat(kind: BrokerKind) async throws {
        let broker = try await kind.topic(partitions: 1)
        let producer = try KafkaProducer(config: broker.config)
        _ = try await producer.send((1...3).map {
            OutgoingMessage(topic: broker.topic, key: "k\($0)", value: "値\($0)", headers: [KafkaHeader("ce_id", "swift-\($0)")])
        })
        let output = try runKcat(["-C", "-b", broker.config.bootstrapServers, "-t", broker.topic, "-o", "beginning",
                                  "-e", "-q", "-f", "%k|%s|%h\\n"], input: nil)
        #expect(output.split(separator: "\n").map(String.init) == [
            "k1|値1|ce_id=swift-1", "k2|値2|ce_id=swift-2", "k3|値3|ce_id=swift-3",
        ])
    }

    /// Runs kcat and returns its stdout; a missing kcat fails the test (scripts/test installs it).
    func runKcat(_ arguments: [String], input: String?) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/kcat")
        process.arguments = arguments
        let stdout = Pipe(), stdin = Pipe()
        process.standardOutput = stdout
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try stdin.fileHandleForWriting.close()
        let data = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "kcat \(arguments.first ?? "") exited \(process.terminationStatus)")
        return String(decoding: data, as: UTF8.self)
    }
}
