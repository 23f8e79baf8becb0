import Foundation
import Postgres
import WorkerRuntime

/// The runtime's sample worker, for tests and benchmarks: each `sample.item-updated`
/// event upserts one row of `sample_items` and derives one `sample.item-recorded` event.
public struct SampleHandler: EventHandler {
    public static let inputTopic = "sample.events.v1"
    public static let outputTopic = "sample.derived.v1"
    public static let eventType = "sample.item-updated"
    public static let derivedType = "sample.item-recorded"

    public let acceptedTypes: Set<String> = [SampleHandler.eventType]
    let outputTopic: String

    public init(outputTopic: String = SampleHandler.outputTopic) {
        self.outputTopic = outputTopic
    }

    public struct Body: Codable, Sendable {
        public let itemId: String
        public let value: Int

        public init(itemId: String, value: Int) {
            self.itemId = itemId
            self.value = value
        }
    }

    public func apply(_ events: [InboundEvent], in tx: PostgresConnection) throws -> [EventOutcome] {
        // Validate everything first; write only what is valid.
        var outcomes: [EventOutcome] = []
        var valid: [(InboundEvent, Body)] = []
        for event in events {
            do {
                let body = try event.decode(Body.self)
                guard !body.itemId.isEmpty, body.itemId.count <= 64 else {
                    throw Rejection(.validation, "itemId must be 1 to 64 characters")
                }
                guard body.value >= 0 else { throw Rejection(.validation, "value must not be negative") }
                valid.append((event, body))
                outcomes.append(.applied([try DerivedEvent(topic: outputTopic, key: body.itemId,
                                                           type: SampleHandler.derivedType, body: body)]))
            } catch let rejection as Rejection {
                outcomes.append(.rejected(rejection))
            }
        }
        // One statement for the batch: fold repeated items (the last value wins, every
        // event counts), because one INSERT … ON CONFLICT cannot touch a row twice.
        var order: [String] = []
        var folded: [String: (value: Int, count: Int, lastEvent: String)] = [:]
        for (event, body) in valid {
            if folded[body.itemId] == nil { order.append(body.itemId) }
            folded[body.itemId] = (body.value, (folded[body.itemId]?.count ?? 0) + 1, event.id)
        }
        if !order.isEmpty {
            try tx.execute("""
                INSERT INTO sample_items (item_id, value, updates, last_event_id)
                SELECT * FROM unnest(\(order)::text[], \(order.map { folded[$0]!.value })::bigint[],
                                     \(order.map { folded[$0]!.count })::int[], \(order.map { folded[$0]!.lastEvent })::text[])
                ON CONFLICT (item_id) DO UPDATE
                SET value = EXCLUDED.value, updates = sample_items.updates + EXCLUDED.updates,
                    last_event_id = EXCLUDED.last_event_id
                """)
        }
        return outcomes
    }
}
