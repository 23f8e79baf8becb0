import Foundation
import Kafka

/// An outbox row as the relay reads it.
public struct OutboxMessage: Sendable {
    public let id: Int64
    public let topic: String
    public let key: String?
    public let ceID: String
    public let ceType: String
    public let headers: [KafkaHeader]
    public let payload: [UInt8]?
    public let createdAt: Date
}

/// What the relay does with a row: publish it (possibly projected), or hold it back.
public enum PublishDecision: Sendable {
    case publish(OutgoingMessage)
    case hold(reason: String)
}

/// The seam where the transfer policy (legal basis, allowed fields per destination)
/// decides every row before it leaves. No row reaches Kafka except through `decide`.
public protocol PublishPolicy: Sendable {
    func decide(_ row: OutboxMessage) -> PublishDecision
}

/// Publishes every row as written.
public struct PassThroughPolicy: PublishPolicy {
    public init() {}

    public func decide(_ row: OutboxMessage) -> PublishDecision {
        .publish(OutgoingMessage(topic: row.topic, key: row.key.map { Array($0.utf8) }, value: row.payload,
                                 headers: row.headers))
    }
}
