import Foundation
import Kafka
import Testing

/// Settings that let the mock cluster's groups form and rebalance in seconds
/// (PLATFORM-NOTES: below ~3.5 s the group never forms).
let mockGroupProperties = ["session.timeout.ms": "4000", "heartbeat.interval.ms": "500"]

func uniqueName(_ prefix: String) -> String { "\(prefix)-\(UInt32.random(in: 0...UInt32.max))" }

/// Polls until `count` messages arrived or `timeout` passed; returns what arrived.
func consume(_ consumer: KafkaConsumer, count: Int, timeout: Duration = .seconds(30)) async throws -> [ConsumedMessage] {
    var messages: [ConsumedMessage] = []
    let deadline = ContinuousClock.now + timeout
    while messages.count < count, ContinuousClock.now < deadline {
        let result = try await consumer.poll(maxMessages: 2000, timeout: .milliseconds(200))
        messages += result.messages
        let permanent = result.errors.filter { !$0.isTransient }
        try #require(permanent.isEmpty, "consumer errors: \(permanent)")
    }
    return messages
}

/// Polls until the condition holds (rebalances happen inside poll).
func pollUntil(_ consumers: [KafkaConsumer], timeout: Duration = .seconds(30),
               collect: inout [ConsumedMessage], _ condition: ([ConsumedMessage]) -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition(collect), ContinuousClock.now < deadline {
        for consumer in consumers {
            collect += try await consumer.poll(maxMessages: 2000, timeout: .milliseconds(100)).messages
        }
    }
}

extension ConsumedMessage {
    var valueText: String { value.map { String(decoding: $0, as: UTF8.self) } ?? "" }
}

/// The second broker that scripts/test starts; missing it is a failure, not a skip.
enum Noida {
    struct Missing: Error, CustomStringConvertible {
        var description: String { "KOKI_TEST_NOIDA_BOOTSTRAP is not set: run the suites with scripts/test" }
    }

    static func bootstrap() throws -> String {
        guard let value = ProcessInfo.processInfo.environment["KOKI_TEST_NOIDA_BOOTSTRAP"], !value.isEmpty else {
            throw Missing()
        }
        return value
    }
}
