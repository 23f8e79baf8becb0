import Foundation
import Kafka
import KokiBase
import KokiSecrets
import Postgres
import WorkerRuntime

/// The relay's transfer policy: every row for a `transfer.*` topic is checked against its
/// destination's legal basis and active period and projected to the fields the destination may
/// receive for that event type; anything else is held (logged without personal data, counted).
/// koki's own topics (dead letters, internal ones) pass unchanged.
public final class TransferPolicy: PublishPolicy, @unchecked Sendable {  // rules swapped under the lock
    public struct Destination: Sendable, Hashable {
        public let destination: String
        public let name: String
        public let topic: String
        public let legalBasis: String
        public let activeFrom: LocalDate
        public let activeTo: LocalDate?
        /// Who the destination may hear about, when not everyone: `foreign-resident`.
        public let subjectCondition: String?
    }

    /// What the relay knows of the people a batch is about: who has a 利用停止 in force, who is
    /// a foreign resident (for a destination whose basis covers only them).
    public struct Subjects: Sendable {
        public var stopped: Set<String> = []
        public var foreignResidents: Set<String> = []

        public init(stopped: Set<String> = [], foreignResidents: Set<String> = []) {
            self.stopped = stopped
            self.foreignResidents = foreignResidents
        }
    }

    public struct Rule: Sendable, Hashable {
        public let fields: Set<String>
        public let myNumberAllowed: Bool
        public let requiredByStatute: Bool
    }

    public struct Rules: Sendable {
        public var destinations: [String: Destination] = [:]   // by topic
        public var rules: [String: [String: Rule]] = [:]       // destination → event type → rule

        public init() {}
    }

    private let lock = NSLock()
    private var current = Rules()
    private let today: @Sendable () -> LocalDate
    private let opener: MyNumberOpener?

    /// `today` is the publication date the active periods are checked against; `opener` opens
    /// sealed 個人番号 for the destinations allowed to receive them (without it such a transfer
    /// is held).
    /// The topics besides `transfer.*` koki publishes to (nil: any — for tests of the policy
    /// alone). A row for any other topic is held: a worker that writes an outbox row for, say,
    /// `clock.business-day.v1` cannot make the relay forge an upstream event.
    private let ownTopics: Set<String>?

    public init(rules: Rules = Rules(), opener: MyNumberOpener?, ownTopics: Set<String>? = nil,
                today: @escaping @Sendable () -> LocalDate = TransferPolicy.tokyoToday) {
        current = rules
        self.opener = opener
        self.ownTopics = ownTopics
        self.today = today
    }


    /// A basis's active period is in Japanese days: checked against today in Asia/Tokyo (the
    /// UTC date was 9 hours late at every boundary).
    public static let tokyoToday: @Sendable () -> LocalDate = { LocalDate.todayInTokyo() }

    public func refresh(on conn: PostgresConnection) throws {
        let rules = try Self.load(on: conn)
        lock.lock()
        current = rules
        lock.unlock()
    }

    public static func load(on conn: PostgresConnection) throws -> Rules {
        var rules = Rules()
        for row in try conn.query("""
            SELECT destination, name, topic, legal_basis, active_from, active_to, subject_condition FROM transfer_destinations
            """) {
            let d = Destination(destination: try row.decode(at: 0), name: try row.decode(at: 1), topic: try row.decode(at: 2),
                                legalBasis: try row.decode(at: 3), activeFrom: try row.decode(at: 4), activeTo: try row.decode(at: 5),
                                subjectCondition: try row.decode(at: 6))
            rules.destinations[d.topic] = d
        }
        for row in try conn.query("SELECT destination, event_type, fields, my_number_allowed, required_by_statute FROM transfer_rules") {
            let rule = Rule(fields: Set(try row.decode([String].self, at: 2)), myNumberAllowed: try row.decode(at: 3),
                            requiredByStatute: try row.decode(at: 4))
            rules.rules[try row.decode(String.self, at: 0), default: [:]][try row.decode(String.self, at: 1)] = rule
        }
        return rules
    }

    public func decide(_ row: OutboxMessage) -> PublishDecision {
        decide(row, subjects: Subjects())
    }

    /// Decides the batch knowing, of the people the rows are about, who has a recorded 利用停止
    /// and who is a foreign resident — read in the relay's round, so a stop recorded before the
    /// round is honoured.
    public func decide(_ rows: [OutboxMessage], on conn: PostgresConnection) throws -> [PublishDecision] {
        let people = Array(Set(rows.filter(governed).compactMap(\.key)))
        var subjects = Subjects()
        if !people.isEmpty {
            // Every stop in force (a short list): a transfer keyed by one person may carry others.
            subjects.stopped = Set(try conn.query("SELECT atena_no FROM usage_stops").map { try $0.decode(String.self, at: 0) })
            subjects.foreignResidents = Set(try conn.query("""
                SELECT atena_no FROM transfer_subject_facts WHERE atena_no = ANY(\(people)::text[]) AND foreign_resident
                """).map { try $0.decode(String.self, at: 0) })
        }
        return rows.map { decide($0, subjects: subjects) }
    }

    /// koki's topics that go to a contractor (委託): under the policy like a transfer topic.
    static let entrustedTopics: Set<String> = ["koki.notices.v1"]

    /// The headers a transfer carries across the boundary: the CloudEvents attributes.
    static let transferHeaders: Set<String> = ["ce_specversion", "ce_id", "ce_type", "ce_source", "ce_time", "content-type"]

    /// Whether a row goes to a destination under the policy: every `transfer.*` topic, and a koki
    /// topic that a destination receives (the notices, which go to the print contractor as 委託).
    func governed(_ row: OutboxMessage) -> Bool {
        // The notices always: without their destination's row they are held, never sent whole.
        if row.topic.hasPrefix("transfer.") || Self.entrustedTopics.contains(row.topic) { return true }
        lock.lock()
        defer { lock.unlock() }
        return current.destinations[row.topic] != nil
    }

    public func decide(_ row: OutboxMessage, subjects known: Subjects) -> PublishDecision {
        let plain = OutgoingMessage(topic: row.topic, key: row.key.map { Array($0.utf8) }, value: row.payload, headers: row.headers)
        guard governed(row) else {
            if let ownTopics, !ownTopics.contains(row.topic) { return .hold(.notKokisTopic) }
            if row.topic.hasSuffix(".dlq"), row.ceType != KokiHeader.deadLetterReference {
                return .hold(.deadLetterBody)
            }
            return .publish(plain, audit: nil)
        }
        lock.lock()
        let rules = current
        lock.unlock()
        guard let destination = rules.destinations[row.topic] else { return .hold(.noDestination) }
        let day = today()
        guard day >= destination.activeFrom, destination.activeTo.map({ day <= $0 }) ?? true else {
            return .hold(.basisInactive)
        }
        guard let rule = rules.rules[destination.destination]?[row.ceType] else {
            return .hold(.noBasis)
        }
        if let condition = destination.subjectCondition {
            // Fail closed: a condition this code does not know stops the transfer.
            guard condition == "foreign-resident" else { return .hold(.unknownCondition) }
            guard row.key.map(known.foreignResidents.contains) == true else {
                return .hold(.notSubject)
            }
        }
        // A repeated name would let one reading of the bytes differ from another (a first-wins
        // parser at the destination would see a value the projection never checked).
        guard let payload = row.payload, let object = JSONValue.parseUnambiguous(payload)?.objectValue else {
            return .hold(.ambiguousBody)
        }
        // A 個人番号 the rule allows is opened before the projection: it opens only beside its
        // person's atenaNo, which the destination's fields need not include.
        var source = object
        if rule.myNumberAllowed {
            do {
                source = try Projection.openMyNumbers(object, with: opener)
            } catch {
                return .hold(.myNumberUnopened, "\(error)")
            }
        }
        let (projected, sent) = Projection.project(source, allowed: rule.fields, dropMyNumber: !rule.myNumberAllowed)
        // Defence in depth: a 個人番号 only where the rule allows one, whatever the field is called.
        if !rule.myNumberAllowed, Projection.containsMyNumber(projected) {
            return .hold(.myNumberNotAllowed)
        }
        // The key is seen by whoever reads the topic: a 宛名番号 there must be one the body is about
        // (so the body's people are all the transfer is about, the key included).
        let subjects = Projection.subjects(projected)
        if let key = row.key, key.utf8.count == 10, key.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), !subjects.contains(key) {
            return .hold(.keyNotSubject)
        }
        if !rule.requiredByStatute, subjects.contains(where: known.stopped.contains) {
            return .hold(.usageStop)
        }
        // Only bytes koki wrote from what it checked go out: the projected body, re-serialized
        // (never the upstream bytes, even when nothing was projected away), with the CloudEvents
        // headers alone (no upstream causation id or trace crosses the boundary).
        guard let data = try? JSONValue.object(projected).serialized() else {
            return .hold(.unencodable)
        }
        var message = plain
        message.value = data
        message.headers = row.headers.filter { TransferPolicy.transferHeaders.contains($0.key) }
        return .publish(message, audit: AuditRecord(destination: destination.destination, eventID: row.ceID, eventType: row.ceType,
                                                    atenaNo: row.key, fields: sent, legalBasis: destination.legalBasis,
                                                    subjects: subjects))
    }
}
