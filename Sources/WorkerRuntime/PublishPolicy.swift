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

    /// Held for one of the known reasons, with a detail (never personal data) after it.
    public static func hold(_ why: HoldReason, _ detail: String? = nil) -> PublishDecision {
        .hold(reason: detail.map { "\(why.text): \($0)" } ?? why.text)
    }
}

/// Why the relay holds a row: the sentence stored with the row (`koki outbox held`) and a short
/// code, the `reason` label of `koki_outbox_held_total` (a metric label must take few values).
public enum HoldReason: String, CaseIterable, Sendable {
    case notKokisTopic = "not-kokis-topic"
    case deadLetterBody = "dead-letter-body"
    case noDestination = "no-destination"
    case basisInactive = "basis-inactive"
    case noBasis = "no-basis"
    case unknownCondition = "unknown-condition"
    case notSubject = "not-subject"
    case ambiguousBody = "ambiguous-body"
    case myNumberNotAllowed = "mynumber-not-allowed"
    case keyNotSubject = "key-not-subject"
    case usageStop = "usage-stop"
    case myNumberUnopened = "mynumber-unopened"
    case unencodable = "unencodable"
    case unreadableHeaders = "unreadable-headers"
    case kafkaRefused = "kafka-refused"
    case behindRefused = "behind-refused"

    public var text: String {
        switch self {
        case .notKokisTopic: "koki publishes nothing to this topic"
        case .deadLetterBody: "a dead-letter topic carries references only"
        case .noDestination: "no destination for this transfer topic"
        case .basisInactive: "outside the legal basis's active period"
        case .noBasis: "no legal basis for this event type at this destination"
        case .unknownCondition: "the destination has a subject condition koki does not know"
        case .notSubject: "the destination's basis covers only foreign residents and this person is not one"
        case .ambiguousBody: "the body is not a JSON object with unique names"
        case .myNumberNotAllowed: "the body carries a 個人番号 and the rule allows none"
        case .keyNotSubject: "the message key names a person the body is not about"
        case .usageStop: "a person it is about has a recorded usage stop and no statute requires this transfer"
        case .myNumberUnopened: "a 個人番号 to send cannot be opened"
        case .unencodable: "the projected body cannot be encoded"
        case .unreadableHeaders: "the row's headers cannot be read"
        case .kafkaRefused: "Kafka refused it"
        case .behindRefused: "an earlier row of its key was refused by Kafka"
        }
    }

    /// The code of a stored reason (its sentence, perhaps with a detail after it); `other` for
    /// a text none of them begins.
    public static func code(of reason: String) -> String {
        allCases.first { reason.hasPrefix($0.text) }?.rawValue ?? "other"
    }
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
