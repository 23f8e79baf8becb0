import Foundation
import Kafka
import Postgres

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

/// What the relay does with a row: publish it (possibly projected, and then audited), or
/// hold it back.
public enum PublishDecision: Sendable {
    case publish(OutgoingMessage, audit: AuditRecord?)
    case hold(reason: String)
}

/// The transfer log's row for one published transfer (written in the transaction that marks
/// the outbox row published).
public struct AuditRecord: Sendable {
    public let destination: String
    public let eventID: String
    public let eventType: String
    public let atenaNo: String?
    /// The names of the fields sent (dot paths).
    public let fields: [String]
    public let legalBasis: String
    /// Every 宛名番号 the transfer is about (its key, the members of a 住基情報 …): what a
    /// disclosure request finds it by.
    public let subjects: [String]

    public init(destination: String, eventID: String, eventType: String, atenaNo: String?, fields: [String], legalBasis: String,
                subjects: [String]) {
        self.destination = destination
        self.eventID = eventID
        self.eventType = eventType
        self.atenaNo = atenaNo
        self.fields = fields
        self.legalBasis = legalBasis
        self.subjects = subjects
    }
}

/// The seam where the transfer policy (legal basis, allowed fields per destination)
/// decides every row before it leaves. No row reaches Kafka except through `decide`.
public protocol PublishPolicy: Sendable {
    func decide(_ row: OutboxMessage) -> PublishDecision
    /// Decides a batch on the relay's connection, just before it is sent: a policy that needs
    /// the store per row (who has a recorded 利用停止) reads it here. By default, row by row.
    func decide(_ rows: [OutboxMessage], on conn: PostgresConnection) throws -> [PublishDecision]
    /// Reloads what the policy reads from the store (called by the relay when it connects and
    /// every minute).
    func refresh(on conn: PostgresConnection) throws
}

extension PublishPolicy {
    public func refresh(on conn: PostgresConnection) throws {}

    public func decide(_ rows: [OutboxMessage], on conn: PostgresConnection) throws -> [PublishDecision] {
        rows.map(decide)
    }
}

/// Publishes every row as written.
public struct PassThroughPolicy: PublishPolicy {
    public init() {}

    public func decide(_ row: OutboxMessage) -> PublishDecision {
        .publish(OutgoingMessage(topic: row.topic, key: row.key.map { Array($0.utf8) }, value: row.payload,
                                 headers: row.headers), audit: nil)
    }
}
