import Foundation
import Kafka
import KokiEvents
import Transfer

/// The checkpoints of the transfer log and the access log on `koki.audit-checkpoints.v1`, the
/// 情報システム管理者's topic (security review H7): published by `koki clock` with each business day
/// and by `koki audit checkpoint --publish`, read back whole by `koki audit verify --checkpoint-topic`.
enum AuditCheckpoints {
    static let type = "koki.audit-checkpoint"

    /// One checkpoint as a JSON line (sorted keys): the file's line and the event's body.
    static func line(_ head: AuditLog.Checkpoint) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(head), as: UTF8.self)
    }

    /// The event; its id names the heads, so the same heads published twice are one checkpoint.
    static func message(_ head: AuditLog.Checkpoint) throws -> OutgoingMessage {
        OutgoingMessage(topic: Topics.auditCheckpoints, key: "audit", value: try line(head), headers: [
            KafkaHeader("ce_specversion", "1.0"), KafkaHeader("ce_id", "audit-checkpoint:\(head.seq)-\(head.accessID ?? 0)"),
            KafkaHeader("ce_type", type), KafkaHeader("ce_source", "urn:koki:audit"), KafkaHeader("ce_time", head.takenAt),
            KafkaHeader("content-type", "application/json"),
        ])
    }

    struct Unreadable: Error, CustomStringConvertible {
        let description: String
    }

    /// Every checkpoint on the topic, oldest first (up to its end when asked).
    static func read(config: KafkaConfig, timeout: Duration = .seconds(60)) async throws -> [AuditLog.Checkpoint] {
        let consumer = try KafkaConsumer(config: config, groupID: "koki-audit-verify-\(UUID().uuidString)")
        defer { try? consumer.closeBlocking() }
        let partition = TopicPartition(Topics.auditCheckpoints, 0)
        let (low, high) = try await consumer.queryWatermarks(partition, timeout: .seconds(10))
        guard high > low else { return [] }
        try consumer.subscribe([Topics.auditCheckpoints])
        var checkpoints: [AuditLog.Checkpoint] = []
        var next = low
        let deadline = ContinuousClock.now + timeout
        while next < high {
            guard ContinuousClock.now < deadline else {
                throw Unreadable(description: "\(Topics.auditCheckpoints) was not read to its end (offset \(next) of \(high))")
            }
            for message in try await consumer.poll(maxMessages: 500, timeout: .milliseconds(200)).messages
            where message.topicPartition == partition && message.offset >= next {
                next = message.offset + 1
                guard let value = message.value, let checkpoint = try? JSONDecoder().decode(AuditLog.Checkpoint.self, from: Data(value))
                else { throw Unreadable(description: "offset \(message.offset) of \(Topics.auditCheckpoints) is not a checkpoint") }
                checkpoints.append(checkpoint)
            }
        }
        return checkpoints
    }
}
