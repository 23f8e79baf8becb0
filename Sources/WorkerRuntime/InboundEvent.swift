import Foundation
import KokiBase
import KokiEvents
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

    /// Reads the envelope; a violation names the rule broken, never a value. Everything the
    /// runtime stores from the envelope (ids, type, source, key, header values) is bounded and
    /// free of control characters here, so the inbox, the dead-letter table and the outbox can
    /// always hold it.
    public init(_ message: ConsumedMessage) throws(Rejection) {
        let headers = message.headers
        guard headers.count <= InboundEvent.maxHeaders else {
            throw Rejection(.invalidEnvelope, "more than \(InboundEvent.maxHeaders) headers")
        }
        var headerBytes = 0
        for header in headers {
            headerBytes += header.key.utf8.count + (header.value?.count ?? 0)
            guard !(header.value?.contains(0) ?? false), !header.key.utf8.contains(0) else {
                throw Rejection(.invalidEnvelope, "a header contains a NUL byte")
            }
        }
        guard headerBytes <= InboundEvent.maxHeaderBytes else {
            throw Rejection(.invalidEnvelope, "headers are larger than \(InboundEvent.maxHeaderBytes) bytes")
        }
        func attribute(_ name: String, required: Bool) throws(Rejection) -> String? {
            guard let header = headers.last(where: { $0.key == name }), let value = header.value else {
                if required { throw Rejection(.invalidEnvelope, "missing header \(name)") }
                return nil
            }
            guard let text = String(validating: value, as: UTF8.self), !text.isEmpty else {
                throw Rejection(.invalidEnvelope, "header \(name) is empty or not UTF-8")
            }
            guard value.count <= InboundEvent.maxAttributeBytes else {
                throw Rejection(.invalidEnvelope, "header \(name) is longer than \(InboundEvent.maxAttributeBytes) bytes")
            }
            guard InboundEvent.isClean(text) else { throw Rejection(.invalidEnvelope, "header \(name) contains a control character") }
            return text
        }
        guard try attribute("ce_specversion", required: true) == "1.0" else {
            throw Rejection(.invalidEnvelope, "ce_specversion is not 1.0")
        }
        id = try attribute("ce_id", required: true)!
        type = try attribute("ce_type", required: true)!
        source = try attribute("ce_source", required: true)!
        time = try attribute("ce_time", required: false)
        traceparent = try attribute("traceparent", required: false)
        if let contentType = try attribute("content-type", required: false), !contentType.hasPrefix("application/json") {
            throw Rejection(.invalidEnvelope, "content-type is not application/json")
        }
        if let rawKey = message.key {
            guard let text = String(validating: rawKey, as: UTF8.self), !text.isEmpty else {
                throw Rejection(.invalidEnvelope, "the Kafka key is empty or not UTF-8")
            }
            guard rawKey.count <= InboundEvent.maxAttributeBytes else {
                throw Rejection(.invalidEnvelope, "the Kafka key is longer than \(InboundEvent.maxAttributeBytes) bytes")
            }
            guard InboundEvent.isClean(text) else { throw Rejection(.invalidEnvelope, "the Kafka key contains a control character") }
            key = text
        } else {
            key = nil
        }
        guard let body = message.value, !body.isEmpty else {
            throw Rejection(.invalidJSON, "empty body")
        }
        guard body.count <= InboundEvent.maxBodyBytes else {
            throw Rejection(.invalidJSON, "body is larger than \(InboundEvent.maxBodyBytes) bytes")
        }
        guard String(validating: body, as: UTF8.self) != nil else {
            throw Rejection(.undecodable, "body is not valid UTF-8")
        }
        guard JSONSyntax.isValid(body) else { throw Rejection(.invalidJSON, "body is not valid JSON") }
        guard JSONSyntax.isObject(body) else {
            throw Rejection(.invalidJSON, "body is not a JSON object")
        }
        data = body
        topic = message.topic
        partition = message.partition
        offset = message.offset
    }

    /// `ce_id`, `ce_type`, `ce_source`, `ce_time`, `traceparent`, `content-type` and the key: at
    /// most this many bytes (an id is a UUID or a short reference; a key a 宛名番号).
    public static let maxAttributeBytes = 256
    /// Headers per message, and their names and values together.
    public static let maxHeaders = 64
    public static let maxHeaderBytes = 16 << 10

    /// No C0 or C1 control character, no DEL.
    static func isClean(_ text: String) -> Bool {
        !text.unicodeScalars.contains(where: InboundRules.isControl)
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
        /// Its `ce_source` and `ce_id` were applied before with another body.
        case conflict
        /// Applying it took the worker process down `KOKI_CRASH_LIMIT` times in a row.
        case crashLoop = "crash-loop"
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
