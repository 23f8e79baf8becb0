/// koki's topics, as published in the contract (`../shared/docs/EVENTS.md`, the
/// architecture's outbound list). Versioned by suffix; dead letters go to `<topic>.dlq`.
public enum Topics {
    public struct Definition: Sendable, Hashable {
        public let name: String
        public let partitions: Int
    }

    /// What upstream systems publish. Partition counts bound how many replicas of a
    /// worker can share the load; the clock is one ordered stream.
    public static let inbound: [Definition] = [
        Definition(name: "resident.changes.v1", partitions: 6),
        Definition(name: "welfare.public-assistance.v1", partitions: 3),
        Definition(name: "counter.applications.v1", partitions: 3),
        Definition(name: "tax.income.v1", partitions: 6),
        Definition(name: "pension.deduction-targets.v1", partitions: 3),
        Definition(name: "collection.payments.v1", partitions: 6),
        Definition(name: "department.enrollments.v1", partitions: 3),
        Definition(name: "koiki.decisions.v1", partitions: 6),
        Definition(name: "clock.business-day.v1", partitions: 1),
    ]

    /// One topic per destination, so Kafka ACLs can follow the law.
    public static let outbound: [Definition] = [
        Definition(name: "transfer.koiki.v1", partitions: 6),
        Definition(name: "transfer.welfare-livelihood.v1", partitions: 3),
        Definition(name: "transfer.disability-welfare.v1", partitions: 3),
        Definition(name: "transfer.child-development.v1", partitions: 3),
        Definition(name: "transfer.municipal-tax.v1", partitions: 3),
        Definition(name: "transfer.kokuhoren.v1", partitions: 3),
    ]

    /// koki's own topics between its workers (not for other departments): a resident change
    /// the premium must follow, and the notices to print and mail.
    public static let internalTopics: [Definition] = [
        Definition(name: residentUpdates, partitions: 6),
        Definition(name: notices, partitions: 3),
    ]
    /// For the 情報システム管理者: the heads of the transfer log and the access log, published with
    /// each business day (security review H7), so a chain rebuilt after one is found.
    public static let operations: [Definition] = [Definition(name: auditCheckpoints, partitions: 1)]
    public static let auditCheckpoints = "koki.audit-checkpoints.v1"
    public static let residentUpdates = "koki.resident-updates.v1"
    public static let notices = "koki.notices.v1"

    public static func deadLetter(of topic: String) -> String { topic + ".dlq" }

    /// A dead-letter topic for every inbound topic.
    public static let deadLetters: [Definition] = (inbound + [Definition(name: residentUpdates, partitions: 6)]).map {
        Definition(name: deadLetter(of: $0.name), partitions: 1)
    }

    public static let all: [Definition] = inbound + outbound + internalTopics + operations + deadLetters

    /// koki's topics whose partition count on a cluster (`present`: name → partitions) is not the
    /// contract's, named; nil when none is.
    public static func partitionMismatches(_ present: [String: Int]) -> String? {
        let differing = all.filter { topic in present[topic.name].map { $0 != topic.partitions } ?? false }
        return differing.isEmpty ? nil : differing.map { "\($0.name) has \(present[$0.name]!), koki's contract \($0.partitions)" }
            .joined(separator: "; ")
    }

    /// How long each kind of topic keeps its messages. Workers keep their positions and every
    /// fact in PostgreSQL, so Kafka's copy is needed only until every reader has it: a worker or
    /// a destination down longer than its topic's retention finds its partition stopped (nothing
    /// is skipped: `koki offsets` and the sender's replay recover it). Shorter is better for
    /// privacy (the messages carry personal data), longer for outages; 年末年始 alone is 6 days.
    public struct Retention: Sendable, Equatable {
        /// Upstream events and koki's own events between its workers.
        public var inboundDays: Int
        /// What leaves koki: each destination's transfers and the print contractor's notices.
        public var outboundDays: Int
        /// Dead-letter references (the body stays sealed in PostgreSQL).
        public var deadLetterDays: Int

        public init(inboundDays: Int, outboundDays: Int, deadLetterDays: Int) {
            self.inboundDays = inboundDays
            self.outboundDays = outboundDays
            self.deadLetterDays = deadLetterDays
        }

        public static let standard = Retention(inboundDays: 30, outboundDays: 30, deadLetterDays: 14)
    }

    /// Kept for as long as the cluster lives: the business days (a worker new to the group reads
    /// the calendar from its start; a few hundred bytes a year) and the audit checkpoints (the
    /// anchor `koki audit verify --checkpoint-topic` compares the chains with; no personal data).
    public static let keptForever: Set<String> = ["clock.business-day.v1", auditCheckpoints]

    /// A topic's configs at creation: with `acks=all`, a write counts only once
    /// `min.insync.replicas` have it (2 of 3 replicas: one broker may fail and nothing
    /// acknowledged is lost); messages are deleted (never compacted: every event counts) after
    /// their kind's retention.
    public static func configs(of topic: String, replicationFactor: Int, retention: Retention) -> [String: String] {
        let days: Int?
        if keptForever.contains(topic) {
            days = nil
        } else if topic.hasSuffix(".dlq") {
            days = retention.deadLetterDays
        } else if outbound.contains(where: { $0.name == topic }) || topic == notices {
            days = retention.outboundDays
        } else {
            days = retention.inboundDays
        }
        return ["min.insync.replicas": String(max(1, min(2, replicationFactor - 1))),
                "cleanup.policy": "delete",
                "retention.ms": days.map { String($0 * 86_400_000) } ?? "-1"]
    }
}
