import Foundation
import Kafka
import KokiBase
import KokiEvents

/// Builds inbound events exactly as EVENTS.md says upstream systems publish them:
/// CloudEvents binary mode, the person's 宛名番号 as the key, a JSON body.
public struct EventFactory: Sendable {
    public let source: String

    public init(source: String = "urn:koki:synth") {
        self.source = source
    }

    public func message<Body: Encodable>(topic: String, type: String, id: String, key: String, body: Body,
                                         time: LocalDate? = nil) -> OutgoingMessage {
        let data = (try? Self.encoder.encode(body)) ?? Data("{}".utf8)
        return OutgoingMessage(topic: topic, key: Array(key.utf8), value: Array(data), headers: [
            KafkaHeader("ce_specversion", "1.0"), KafkaHeader("ce_id", id), KafkaHeader("ce_type", type),
            KafkaHeader("ce_source", source), KafkaHeader("ce_time", "\(time ?? LocalDate(year: 2026, month: 1, day: 1)!)T00:00:00Z"),
            KafkaHeader("content-type", "application/json"), KafkaHeader("traceparent", Self.traceparent(of: id)),
        ])
    }

    /// A W3C `traceparent` as an upstream system with tracing sends it: the trace and span ids
    /// drawn from the event id (FNV-1a, seeded apart), so a replayed city sends the same ones.
    static func traceparent(of id: String) -> String {
        func fnv(_ seed: UInt64) -> UInt64 {
            id.utf8.reduce(seed) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
        }
        func hex(_ value: UInt64) -> String {
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }
        return "00-\(hex(fnv(0xcbf2_9ce4_8422_2325)))\(hex(fnv(0x8422_2325_cbf2_9ce4) | 1))-\(hex(fnv(0x1234_5678_9abc_def0)))-01"
    }

    public func resident(_ kind: ResidentChange.Kind, _ change: ResidentChange, id: String) -> OutgoingMessage {
        message(topic: "resident.changes.v1", type: kind.rawValue, id: id, key: change.atenaNo, body: change,
                time: change.change.effectiveDate)
    }

    public func businessDay(_ date: LocalDate) -> OutgoingMessage {
        message(topic: "clock.business-day.v1", type: BusinessDay.type, id: "business-day:\(date)", key: "clock",
                body: ["date": date.description], time: date)
    }

    /// Any body given as a dictionary (welfare, counter and department events).
    public func event(topic: String, type: String, id: String, atenaNo: String, fields: [String: String?],
                      time: LocalDate? = nil) -> OutgoingMessage {
        var body = fields
        body["atenaNo"] = atenaNo
        return message(topic: topic, type: type, id: id, key: atenaNo, body: body, time: time)
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}
