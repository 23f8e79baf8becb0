import Postgres

/// What a worker supplies: the event types it applies and how it applies a batch.
/// The runtime owns everything else — polling, dedupe, offsets, the outbox, dead letters,
/// retries and rebalances.
public protocol EventHandler: Sendable {
    /// The `ce_type`s this worker applies; any other is dead-lettered as unknown.
    var acceptedTypes: Set<String> { get }

    /// Applies new events (already deduplicated, in offset order, all from one partition)
    /// inside the batch's open transaction and returns one outcome per event, in order.
    ///
    /// Return `.rejected` only for events the handler has not written anything for
    /// (validate first, then write). Throwing rolls back the whole batch: a transient
    /// error (`PostgresError.isTransient`) is retried with back-off; any other makes the
    /// runtime apply the batch again one event at a time, each under a savepoint, to find
    /// and dead-letter the event at fault.
    func apply(_ events: [InboundEvent], in tx: PostgresConnection) throws -> [EventOutcome]
}

public enum EventOutcome: Sendable {
    case applied([DerivedEvent])
    case rejected(Rejection)
}

/// Thrown by a handler that must not apply a batch yet — another worker has not reached the
/// business day this one is about to act on. The batch is rolled back and tried again shortly;
/// nothing is dead-lettered and no back-off grows.
public struct NotYet: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
