import Foundation
import Kafka
import Testing

/// The wrapper's core behaviour, proved on both brokers.
@Suite("Kafka wire: produce, consume, groups")
struct WireTests {
    @Test("10k keyed messages with headers round-trip, per-key order kept", arguments: BrokerKind.allCases)
    func roundTrip(kind: BrokerKind) async throws {
        let broker = try await kind.topic(partitions: 6)
        let producer = try KafkaProducer(config: broker.config)
        let count = 10_000
        let messages = (0..<count).map { i in
            OutgoingMessage(topic: broker.topic, key: "k\(i % 97)", value: "\(i % 97):\(i / 97):川口",
                            headers: [KafkaHeader("ce_id", "id-\(i)"), KafkaHeader("ce_type", "test.sent"),
                                      KafkaHeader("empty", nil)])
        }
        let reports = try await producer.send(messages)
        #expect(reports.allSatisfy { if case .success = $0 { true } else { false } })

        let consumer = try KafkaConsumer(config: broker.consumerConfig, groupID: uniqueName("g"))
        try consumer.subscribe([broker.topic])
        let received = try await consume(consumer, count: count)
        try await consumer.close()

        #expect(received.count == count)
        #expect(Set(received.map { $0.headers.text("ce_id") }).count == count)
        #expect(received.allSatisfy { $0.headers.text("ce_type") == "test.sent" })
        #expect(received.allSatisfy { $0.headers.contains(KafkaHeader("empty", nil)) })
        var lastSequence: [String: Int] = [:]
        var inOrder = true
        var keysInOnePartition = true
        var partitionOfKey: [String: Int32] = [:]
        for message in received {
            let parts = message.valueText.split(separator: ":")
            let key = message.keyText!, sequence = Int(parts[1])!
            #expect(key == "k\(parts[0])")
            if let last = lastSequence[key], last >= sequence { inOrder = false }
            lastSequence[key] = sequence
            if let p = partitionOfKey[key], p != message.partition { keysInOnePartition = false }
            partitionOfKey[key] = message.partition
        }
        #expect(inOrder)
        #expect(keysInOnePartition)
        #expect(received.allSatisfy { $0.valueText.hasSuffix("川口") })
    }

    @Test("two members split the partitions; when one leaves the other takes over and nothing is lost",
          arguments: BrokerKind.allCases)
    func twoMemberGroup(kind: BrokerKind) async throws {
        let broker = try await kind.topic(partitions: 4)
        let producer = try KafkaProducer(config: broker.config)
        let first = (0..<2000).map { OutgoingMessage(topic: broker.topic, key: "k\($0)", value: "a\($0)") }
        _ = try await producer.send(first)

        let group = uniqueName("g")
        let revoked = RevokeLog()
        let a = try KafkaConsumer(config: broker.consumerConfig, groupID: group,
                                  hooks: RebalanceHooks(revoked: { revoked.add($0, lost: $1) }))
        let b = try KafkaConsumer(config: broker.consumerConfig, groupID: group)
        try a.subscribe([broker.topic])
        try b.subscribe([broker.topic])

        var seen: [ConsumedMessage] = []
        let all = Set((0..<4).map { TopicPartition(broker.topic, Int32($0)) })
        // Both poll (rebalances happen inside poll) until each holds part of the topic.
        let deadline = ContinuousClock.now + .seconds(40)
        while ContinuousClock.now < deadline {
            for consumer in [a, b] {
                let result = try await consumer.poll(maxMessages: 500, timeout: .milliseconds(100))
                seen += result.messages
                try consumer.commit(Self.nextOffsets(result.messages))
            }
            if !a.assignment.isEmpty, !b.assignment.isEmpty, a.assignment.union(b.assignment) == all { break }
        }
        #expect(!a.assignment.isEmpty && !b.assignment.isEmpty)
        #expect(a.assignment.isDisjoint(with: b.assignment))
        #expect(a.assignment.union(b.assignment) == all)

        // Let both read a while, committing as they go, then a leaves cleanly.
        for _ in 0..<10 {
            for consumer in [a, b] {
                let result = try await consumer.poll(maxMessages: 300, timeout: .milliseconds(50))
                seen += result.messages
                try consumer.commit(Self.nextOffsets(result.messages))
            }
        }
        let aHad = a.assignment
        // What the close itself revokes (the joins before it revoked and reassigned too).
        revoked.reset()
        try await a.close()
        #expect(revoked.partitions == aHad, "closing runs the revoke hook for every partition it held")
        #expect(revoked.anyLost == false)

        let second = (0..<2000).map { OutgoingMessage(topic: broker.topic, key: "k\($0)", value: "b\($0)") }
        _ = try await producer.send(second)
        try await pollUntil([b], timeout: .seconds(40), collect: &seen) { seen in
            b.assignment == all && Set(seen.map { "\($0.partition):\($0.offset)" }).count >= 4000
        }
        #expect(b.assignment == all)
        let distinct = Set(seen.map(\.valueText))
        #expect(distinct.count == 4000, "every message was consumed by one member or the other")
        try await b.close()
    }

    static func nextOffsets(_ messages: [ConsumedMessage]) -> [TopicPartition: Int64] {
        var next: [TopicPartition: Int64] = [:]
        for m in messages { next[m.topicPartition] = max(next[m.topicPartition] ?? 0, m.offset + 1) }
        return next
    }
}

final class RevokeLog: @unchecked Sendable {  // guarded by lock
    private let lock = NSLock()
    private var revoked: Set<TopicPartition> = []
    private var lost = false

    func add(_ partitions: [TopicPartition], lost: Bool) {
        lock.lock(); defer { lock.unlock() }
        revoked.formUnion(partitions)
        self.lost = self.lost || lost
    }

    func reset() {
        lock.lock(); defer { lock.unlock() }
        revoked = []
        lost = false
    }

    var partitions: Set<TopicPartition> { lock.lock(); defer { lock.unlock() }; return revoked }
    var anyLost: Bool { lock.lock(); defer { lock.unlock() }; return lost }
}
