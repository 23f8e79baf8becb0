import Foundation
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
}

/// W3C trace context: a derived event continues the trace of its cause with a new span.
enum TraceContext {
    static func child(of traceparent: String?) -> String {
        let span = randomHex(bytes: 8)
        if let traceparent {
            let parts = traceparent.split(separator: "-")
            if parts.count == 4, parts[0].count == 2, parts[1].count == 32, parts[2].count == 16, parts[3].count == 2,
               parts[1].allSatisfy(\.isHexDigit) {
                return "00-\(parts[1])-\(span)-\(parts[3])"
            }
        }
        return "00-\(randomHex(bytes: 16))-\(span)-01"
    }

    /// Hex of `bytes` random bytes (8 or 16), from one system random draw per 8 bytes.
    static func randomHex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        var text = ""
        for _ in 0..<(bytes / 8) {
            text += String(generator.next() as UInt64, radix: 16).leftPadded(to: 16)
        }
        return text
    }

    /// A random (version 4) UUID, lowercase. Foundation's `UUID()` opens and closes
    /// /dev/urandom for every one on Linux: about 6% of the sample worker loop's time
    /// (perf under `koki bench runtime`).
    static func uuid() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = ((generator.next() as UInt64) & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000  // version 4
        let low = ((generator.next() as UInt64) & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000  // variant 10
        let h = String(high, radix: 16).leftPadded(to: 16), l = String(low, radix: 16).leftPadded(to: 16)
        return "\(h.prefix(8))-\(h.dropFirst(8).prefix(4))-\(h.suffix(4))-\(l.prefix(4))-\(l.suffix(12))"
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
