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

    /// A topic's configs at creation: with `acks=all`, a write counts only once
    /// `min.insync.replicas` have it (2 of 3 replicas: one broker may fail and nothing
    /// acknowledged is lost); dead letters, which hold what could not be applied, are deleted
    /// after `dlqRetentionDays`.
    public static func configs(of topic: String, replicationFactor: Int, dlqRetentionDays: Int) -> [String: String] {
        var configs = ["min.insync.replicas": String(max(1, min(2, replicationFactor - 1))), "cleanup.policy": "delete"]
        if topic.hasSuffix(".dlq") { configs["retention.ms"] = String(dlqRetentionDays * 86_400_000) }
        return configs
    }
}
