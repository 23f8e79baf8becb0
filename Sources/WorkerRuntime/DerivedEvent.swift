import Logging
import Crypto
import Foundation
import Synchronization
import Kafka
import KokiBase

/// An event a handler derives; the runtime gives it an id, envelope headers, the cause's
/// id and the trace, and writes it to the outbox in the batch's transaction.
public struct DerivedEvent: Sendable {
    public let topic: String
    public let key: String?
    public let type: String
    public let data: [UInt8]

    public init(topic: String, key: String?, type: String, data: [UInt8]) {
        self.topic = topic
        self.key = key
        self.type = type
        self.data = data
    }

    /// JSON-encodes `body` with sorted keys (stable bytes for the same content).
    public init<Body: Encodable>(topic: String, key: String?, type: String, body: Body) throws {
        self.init(topic: topic, key: key, type: type, data: Array(try DerivedEvent.encoder.encode(body)))
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}

/// Header names koki adds beyond the CloudEvents ones.
public enum KokiHeader {
    /// The `ce_id` of the event this one was derived from.
    public static let causationID = "koki_causation_id"
    public static let originalTopic = "koki_dlq_topic"
    public static let originalPartition = "koki_dlq_partition"
    public static let originalOffset = "koki_dlq_offset"
    public static let originalTimestamp = "koki_dlq_timestamp"
    public static let consumerGroup = "koki_dlq_group"
    public static let errorKind = "koki_dlq_error_kind"
    public static let errorReason = "koki_dlq_reason"
    /// The `ce_type` of a dead letter's reference on `<topic>.dlq`.
    public static let deadLetterReference = "koki.dead-letter"
}

/// W3C trace context: a derived event continues the trace of its cause with a new span.
/// Written byte by byte: these ran once or twice per derived event, and building them from
/// `String(radix:)` pieces was a tenth of the sample worker thread's time.
enum TraceContext {
    /// The trace id of a W3C `traceparent` (32 lower-case hex digits, not all zero), for logs;
    /// nil for anything else.
    static func traceID(of traceparent: String?) -> String? {
        guard let parent = wellFormed(traceparent) else { return nil }
        let id = parent[3..<35]
        guard id.contains(where: { $0 != UInt8(ascii: "0") }) else { return nil }
        return String(decoding: id, as: UTF8.self).lowercased()
    }

    /// An event id as logs may carry it: an upstream `ce_id` is the sender's text, so only an
    /// id of letters, digits and `._:-` up to 128 bytes, with no run of 12 digits (the length
    /// of a 個人番号, separators not counting as a break), is written; anything else is logged as
    /// absent (the dead letter keeps it; the offset still names the event — a UUID with twelve
    /// digits between two letters is left out too).
    static func loggableID(_ id: String?) -> String? {
        guard let id, (1...128).contains(id.utf8.count) else { return nil }
        var digits = 0
        for byte in id.utf8 {
            let isDigit = (0x30...0x39).contains(byte)
            guard isDigit || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                    || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ":")
                    || byte == UInt8(ascii: "-") else { return nil }
            // A separator does not end a run of digits (`1234-5678-9018` is 12 digits); a letter does.
            let isLetter = (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
            digits = isDigit ? digits + 1 : isLetter ? 0 : digits
            if digits >= 12 { return nil }
        }
        return id
    }

    /// `ce_id` and `trace_id` for a log line about one message, each only when loggable.
    static func logFields(_ headers: [KafkaHeader]) -> Logger.Metadata {
        var fields: Logger.Metadata = [:]
        if let id = loggableID(headers.text("ce_id")) { fields["ce_id"] = "\(id)" }
        if let trace = traceID(of: headers.text("traceparent")) { fields["trace_id"] = "\(trace)" }
        return fields
    }

    /// A `traceparent`'s bytes when it has the W3C shape — version-traceid-spanid-flags: 2-32-16-2
    /// hex digits —, else nil.
    static func wellFormed(_ traceparent: String?) -> [UInt8]? {
        guard let parent = traceparent.map({ Array($0.utf8) }), parent.count == 55,
              parent.enumerated().allSatisfy({ i, byte in i == 2 || i == 35 || i == 52 ? byte == UInt8(ascii: "-") : byte.isHexDigit })
        else { return nil }
        return parent
    }

    static func child(of traceparent: String?) -> String {
        var out: [UInt8] = Array("00-".utf8)
        out.reserveCapacity(55)
        if let parent = wellFormed(traceparent) {
            out += parent.dropFirst(3).prefix(33)  // the trace id and its dash
            appendRandomHex(words: 1, to: &out)
            out += parent.suffix(3)  // dash and flags
        } else {
            appendRandomHex(words: 2, to: &out)
            out.append(UInt8(ascii: "-"))
            appendRandomHex(words: 1, to: &out)
            out += Array("-01".utf8)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A name-based UUID (version 5's layout over SHA-256 instead of SHA-1, as RFC 9562's
    /// version 8 allows): the same name always gives the same id. Derived events are named by
    /// the group, their cause (topic, source, id) and their place among the cause's derived
    /// events, so a replay or a restored database derives the same `ce_id`s and consumers
    /// that dedupe by `ce_id` apply each fact once.
    static func uuid(named parts: [String]) -> String {
        var hasher = SHA256()
        for part in parts {
            hasher.update(data: Array(String(part.utf8.count).utf8) + [0x3A] + Array(part.utf8))  // length-prefixed
        }
        let digest = Array(hasher.finalize())
        var high: UInt64 = 0, low: UInt64 = 0
        for i in 0..<8 { high = high << 8 | UInt64(digest[i]) }
        for i in 8..<16 { low = low << 8 | UInt64(digest[i]) }
        high = (high & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_8000  // version 8
        low = (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000  // variant 10
        var out: [UInt8] = []
        out.reserveCapacity(36)
        appendHex(high, to: &out)
        appendHex(low, to: &out)
        for dash in [8, 13, 18, 23] { out.insert(UInt8(ascii: "-"), at: dash) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Hex of `words` (1 or 2) random 64-bit words.
    static func appendRandomHex(words: Int, to out: inout [UInt8]) {
        let (a, b) = RandomPool.shared.next2()
        appendHex(a, to: &out)
        if words > 1 { appendHex(b, to: &out) }
    }

    /// 16 lowercase hex digits.
    static func appendHex(_ value: UInt64, to out: inout [UInt8]) {
        for shift in stride(from: 60, through: 0, by: -4) {
            out.append(lowercaseHexDigits[Int((value >> UInt64(shift)) & 0xF)])
        }
    }
}

/// The sixteen digits, for ids and for `\u00XX` escapes.
let lowercaseHexDigits = Array("0123456789abcdef".utf8)

/// The kernel's random bytes, drawn 4 KiB at a time: `SystemRandomNumberGenerator` makes a
/// `getrandom` system call per 8 bytes (as does Debian 12's `arc4random_buf` per call), three
/// per derived event, and the kernel's side of those was a tenth of the sample worker thread's
/// time.
final class RandomPool: Sendable {
    static let shared = RandomPool()
    private let state = Mutex((words: [UInt64](repeating: 0, count: 512), next: 512))

    /// Two words from the pool, refilled from the system generator when it runs out.
    func next2() -> (UInt64, UInt64) {
        state.withLock { state in
            if state.next + 2 > state.words.count {
                state.words.withUnsafeMutableBytes { arc4random_buf($0.baseAddress!, $0.count) }
                state.next = 0
            }
            defer { state.next += 2 }
            return (state.words[state.next], state.words[state.next + 1])
        }
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

/// RFC 3339 timestamps in UTC with milliseconds, for `ce_time`.
enum Timestamp {
    static func now() -> String {
        let millis = Int64(Date().timeIntervalSince1970 * 1000)
        let days = Int(millis / 86_400_000)
        let rest = Int(millis % 86_400_000)
        let date = LocalDate(daysSinceEpoch: days)
        return "\(date)T\(String(rest / 3_600_000).leftPadded(to: 2)):\(String(rest / 60_000 % 60).leftPadded(to: 2)):"
            + "\(String(rest / 1000 % 60).leftPadded(to: 2)).\(String(rest % 1000).leftPadded(to: 3))Z"
    }
}
