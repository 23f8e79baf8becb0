import Foundation
import Kafka
import Testing

@Suite("Kafka consumer control and fault injection (mock cluster)")
struct MockClusterTests {
    func cluster(topic: String, partitions: Int = 1) throws -> MockKafkaCluster {
        let cluster = try MockKafkaCluster(brokers: 3)
        try cluster.createTopic(topic, partitions: partitions, replicationFactor: 3)
        return cluster
    }

    func produce(_ count: Int, to topic: String, on cluster: MockKafkaCluster, prefix: String = "m") async throws {
        let producer = try KafkaProducer(config: cluster.config())
        let results = try await producer.send((0..<count).map {
            OutgoingMessage(topic: topic, key: "k\($0 % 10)", value: "\(prefix)\($0)")
        })
        #expect(results.allSatisfy { if case .success = $0 { true } else { false } })
    }

    @Test func assignmentSeeksToTheOffsetTheOwnerSupplies() async throws {
        let topic = uniqueName("seek")
        let cluster = try cluster(topic: topic, partitions: 2)
        try await produce(200, to: topic, on: cluster)
        let supplied: [TopicPartition: Int64] = [TopicPartition(topic, 0): 42, TopicPartition(topic, 1): 7]
        let consumer = try KafkaConsumer(config: cluster.config(properties: mockGroupProperties), groupID: uniqueName("g"),
                                         hooks: RebalanceHooks(assigned: { partitions in
                                             supplied.filter { partitions.contains($0.key) }
                                         }))
        try consumer.subscribe([topic])
        let messages = try await consume(consumer, count: 200 - 42 - 7)
        let firstOffsets = Dictionary(grouping: messages, by: \.partition).mapValues { $0.map(\.offset).min()! }
        #expect(firstOffsets == [0: 42, 1: 7])
        #expect(messages.count == 200 - 42 - 7)
        try await consumer.close()
    }

    @Test func theIdempotentProducerSurvivesInjectedProduceErrorsWithoutDuplicates() async throws {
        let topic = uniqueName("idem")
        let cluster = try cluster(topic: topic, partitions: 3)
        cluster.pushRequestErrors(.produce, [.notLeaderForPartition, .requestTimedOut, .notEnoughReplicas,
                                             .leaderNotAvailable, .requestTimedOut, .notEnoughReplicas])
        try await produce(3000, to: topic, on: cluster)
        let consumer = try KafkaConsumer(config: cluster.config(properties: mockGroupProperties), groupID: uniqueName("g"))
        try consumer.subscribe([topic])
        let messages = try await consume(consumer, count: 3000, timeout: .seconds(30))
        // Wait a little longer: a duplicate would arrive after the 3000th message.
        let extra = try await consume(consumer, count: 1, timeout: .seconds(2))
        let values = (messages + extra).map(\.valueText)
        #expect(values.count == 3000)
        #expect(Set(values).count == 3000)
        // Per key, the order of sending is kept through the retries.
        for key in 0..<10 {
            let sequence = (messages + extra).filter { $0.keyText == "k\(key)" }.map { Int($0.valueText.dropFirst())! }
            #expect(sequence == sequence.sorted())
        }
        try await consumer.close()
    }

    @Test func messagesSentWhileEveryBrokerIsDownAreDeliveredWhenTheyReturn() async throws {
        let topic = uniqueName("down")
        let cluster = try cluster(topic: topic)
        let producer = try KafkaProducer(config: cluster.config())
        _ = try await producer.send(OutgoingMessage(topic: topic, key: "k", value: "before"))
        try cluster.setAllBrokers(up: false)
        let pending = Task { try await producer.send((0..<100).map { OutgoingMessage(topic: topic, key: "k", value: "during\($0)") }) }
        try await Task.sleep(for: .seconds(2))
        #expect(producer.outstanding > 0, "nothing can be delivered while the brokers are down")
        try cluster.setAllBrokers(up: true)
        let results = try await pending.value
        #expect(results.allSatisfy { if case .success = $0 { true } else { false } })
        let consumer = try KafkaConsumer(config: cluster.config(properties: mockGroupProperties), groupID: uniqueName("g"))
        try consumer.subscribe([topic])
        let messages = try await consume(consumer, count: 101)
        #expect(messages.map(\.valueText) == ["before"] + (0..<100).map { "during\($0)" })
        try await consumer.close()
    }

    @Test func pauseStopsDeliveryAndResumeContinuesWithoutAGap() async throws {
        let topic = uniqueName("pause")
        let cluster = try cluster(topic: topic)
        try await produce(100, to: topic, on: cluster)
        let consumer = try KafkaConsumer(config: cluster.config(properties: mockGroupProperties), groupID: uniqueName("g"))
        try consumer.subscribe([topic])
        var first: [ConsumedMessage] = []
        let deadline = ContinuousClock.now + .seconds(20)
        while first.isEmpty, ContinuousClock.now < deadline {
            first = try await consumer.poll(maxMessages: 10, timeout: .milliseconds(200)).messages
        }
        #expect(first.count == 10)
        let tp = TopicPartition(topic, 0)
        try consumer.pause([tp])
        try await produce(50, to: topic, on: cluster, prefix: "late")
        let whilePaused = try await consumer.poll(maxMessages: 1000, timeout: .seconds(1))
        #expect(whilePaused.messages.isEmpty)
        try consumer.resume([tp])
        let rest = try await consume(consumer, count: 140)
        #expect(rest.map(\.offset) == Array(10..<150).map(Int64.init))
        try await consumer.close()
    }

    @Test func seekRereadsFromAnEarlierOffset() async throws {
        let topic = uniqueName("reread")
        let cluster = try cluster(topic: topic)
        try await produce(30, to: topic, on: cluster)
        let consumer = try KafkaConsumer(config: cluster.config(properties: mockGroupProperties), groupID: uniqueName("g"))
        try consumer.subscribe([topic])
        let all = try await consume(consumer, count: 30)
        #expect(all.count == 30)
        try consumer.seek([TopicPartition(topic, 0): 20])
        let again = try await consume(consumer, count: 10)
        #expect(again.map(\.offset) == Array(20..<30).map(Int64.init))
        try await consumer.close()
    }

    @Test func commitsAndWatermarksAreVisible() async throws {
        let topic = uniqueName("lag")
        let cluster = try cluster(topic: topic)
        try await produce(25, to: topic, on: cluster)
        let consumer = try KafkaConsumer(config: cluster.config(properties: mockGroupProperties), groupID: uniqueName("g"))
        try consumer.subscribe([topic])
        _ = try await consume(consumer, count: 25)
        let tp = TopicPartition(topic, 0)
        let marks = try await consumer.queryWatermarks(tp, timeout: .seconds(5))
        #expect(marks.low == 0 && marks.high == 25)
        #expect(consumer.cachedWatermarks(tp)?.high == 25)
        try consumer.commit([tp: 20])
        var committed: Int64 = -1
        let deadline = ContinuousClock.now + .seconds(10)
        while committed != 20, ContinuousClock.now < deadline {
            _ = try await consumer.poll(maxMessages: 1, timeout: .milliseconds(100))
            committed = try await consumer.committed([tp], timeout: .seconds(5))[tp] ?? -1
        }
        #expect(committed == 20)
        try await consumer.close()
    }

    @Test func closeRunsTheRevokeHookAndEndsMembership() async throws {
        let topic = uniqueName("close")
        let cluster = try cluster(topic: topic, partitions: 2)
        try await produce(10, to: topic, on: cluster)
        let log = RevokeLog()
        let consumer = try KafkaConsumer(config: cluster.config(properties: mockGroupProperties), groupID: uniqueName("g"),
                                         hooks: RebalanceHooks(revoked: { log.add($0, lost: $1) }))
        try consumer.subscribe([topic])
        _ = try await consume(consumer, count: 10)
        #expect(consumer.assignment.count == 2)
        try await consumer.close(timeout: .seconds(10))
        #expect(log.partitions == Set([TopicPartition(topic, 0), TopicPartition(topic, 1)]))
        #expect(consumer.assignment.isEmpty)
        try await consumer.close()  // a second close is harmless
    }
}

@Suite("Kafka group leave on an independent broker")
struct LeaveGroupTests {
    /// On noida (fast rebalances) a clean close hands the partitions over at once — far
    /// sooner than the 30 s session time-out that would otherwise have to expire.
    @Test func closeHandsPartitionsOverBeforeTheSessionTimesOut() async throws {
        let config = KafkaConfig(bootstrapServers: try Noida.bootstrap(),
                                 properties: ["session.timeout.ms": "30000", "heartbeat.interval.ms": "1000"])
        let topic = uniqueName("leave")
        try await KafkaAdmin(config: config).createTopics([NewTopic(name: topic, partitions: 2)])
        let group = uniqueName("g")
        let a = try KafkaConsumer(config: config, groupID: group)
        let b = try KafkaConsumer(config: config, groupID: group)
        try a.subscribe([topic])
        try b.subscribe([topic])
        var sink: [ConsumedMessage] = []
        try await pollUntil([a, b], timeout: .seconds(30), collect: &sink) { _ in
            a.assignment.count == 1 && b.assignment.count == 1
        }
        #expect(a.assignment.count == 1 && b.assignment.count == 1)
        try await a.close()
        let start = ContinuousClock.now
        try await pollUntil([b], timeout: .seconds(25), collect: &sink) { _ in b.assignment.count == 2 }
        #expect(b.assignment.count == 2)
        #expect(ContinuousClock.now - start < .seconds(20))
        try await b.close()
    }
}
