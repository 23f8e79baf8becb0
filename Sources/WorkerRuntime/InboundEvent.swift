import Foundation
import KokiBase
import Kafka

/// A CloudEvents 1.0 event in Kafka binary mode, as EVENTS.md defines the envelope:
/// `ce_*` headers and a JSON object body. Parsing checks the envelope only; the body's
/// shape is the handler's business.
public struct InboundEvent: Sendable {
    public let id: String
    public let type: String
    public let source: String
    public let time: String?
    public let traceparent: String?
    /// The Kafka key (the person's 宛名番号, or e.g. `clock`).
    public let key: String?
    /// The JSON body, as received.
    public let data: [UInt8]
    public let topic: String
    public let partition: Int32
    public let offset: Int64

    /// Reads the envelope; a violation names the rule broken, never a value.
    public init(_ message: ConsumedMessage) throws(Rejection) {
        let headers = message.headers
        func required(_ name: String) throws(Rejection) -> String {
            guard let header = headers.last(where: { $0.key == name }), let value = header.value else {
                throw Rejection(.invalidEnvelope, "missing header \(name)")
            }
            guard let text = String(validating: value, as: UTF8.self), !text.isEmpty else {
                throw Rejection(.invalidEnvelope, "header \(name) is empty or not UTF-8")
            }
            return text
        }
        guard try required("ce_specversion") == "1.0" else {
            throw Rejection(.invalidEnvelope, "ce_specversion is not 1.0")
        }
        id = try required("ce_id")
        type = try required("ce_type")
        source = try required("ce_source")
        time = headers.text("ce_time")
        traceparent = headers.text("traceparent")
        if let contentType = headers.text("content-type"), !contentType.hasPrefix("application/json") {
            throw Rejection(.invalidEnvelope, "content-type is not application/json")
        }
        guard let body = message.value, !body.isEmpty else {
            throw Rejection(.invalidJSON, "empty body")
        }
        guard String(validating: body, as: UTF8.self) != nil else {
            throw Rejection(.undecodable, "body is not valid UTF-8")
        }
        guard body.count <= InboundEvent.maxBodyBytes else {
            throw Rejection(.invalidJSON, "body is larger than \(InboundEvent.maxBodyBytes) bytes")
        }
        guard JSONSyntax.isValid(body) else { throw Rejection(.invalidJSON, "body is not valid JSON") }
        guard JSONSyntax.isObject(body) else {
            throw Rejection(.invalidJSON, "body is not a JSON object")
        }
        key = message.keyText
        data = body
        topic = message.topic
        partition = message.partition
        offset = message.offset
    }

    /// Bodies beyond this are refused before parsing (a 10 MB body is an attack, not a record).
    public static let maxBodyBytes = 1 << 20

    /// Decodes the body; a failure names the field and the problem, never the value.
    public func decode<T: Decodable>(_ type: T.Type) throws(Rejection) -> T {
        do {
            return try InboundEvent.decoder.decode(type, from: Data(data))
        } catch let error as DecodingError {
            throw Rejection(.schema, Rejection.describe(error))
        } catch {
            throw Rejection(.schema, "body does not match \(self.type)")
        }
    }

    private static let decoder = JSONDecoder()
}

/// Why an event cannot be applied. Reasons are written by koki and name rules and
/// fields, never values: they go to logs, metrics and the dead-letter table.
public struct Rejection: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// Bytes that are not text.
        case undecodable
        /// Text that is not a JSON object.
        case invalidJSON = "invalid-json"
        /// CloudEvents headers missing or wrong.
        case invalidEnvelope = "invalid-envelope"
        /// A `ce_type` this worker does not know.
        case unknownType = "unknown-type"
        /// The body does not have the event type's shape.
        case schema
        /// A domain rule refuses it (an invalid 個人番号 check digit, an impossible date …).
        case validation
        /// The store refused it permanently (a constraint), found by applying it alone.
        case store
    }

    public let kind: Kind
    public let reason: String

    public init(_ kind: Kind, _ reason: String) {
        self.kind = kind
        self.reason = reason
    }

    public var description: String { "\(kind.rawValue): \(reason)" }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return keys.isEmpty ? "body" : keys.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context)
            return "missing field \(parent == "body" ? key.stringValue : parent + "." + key.stringValue)"
        case .typeMismatch(let type, let context):
            return "field \(path(context)) is not \(String(describing: type))"
        case .valueNotFound(let type, let context):
            return "field \(path(context)) is null, expected \(String(describing: type))"
        case .dataCorrupted(let context):
            return "field \(path(context)) has an invalid value"
        @unknown default:
            return "body does not match the schema"
        }
    }
}
