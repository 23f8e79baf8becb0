import ArgumentParser
import Foundation
import Kafka
import KokiSecrets
import Postgres
import WorkerRuntime

/// `koki dlq …` — dead-letter operations.
struct DeadLetters: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "List, inspect, replay or discard dead-lettered events.",
        subcommands: [List.self, Show.self, Replay.self, Discard.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List open dead letters (no payloads).")
        @Flag(help: "Include replayed and discarded ones.") var all = false
        @Option(help: "At most this many.") var limit = 100

        mutating func run() async throws {
            let (all, limit) = (self.all, self.limit)
            let rows = try await withDatabase { try DeadLetterOperations.list(includeResolved: all, limit: limit, on: $0) }
            if rows.isEmpty { print("no dead letters"); return }
            print("id\tstatus\tgroup\ttopic[partition]@offset\tce_type\tkind\treason")
            for r in rows {
                print("\(r.id)\t\(r.status)\t\(r.group)\t\(r.topic)[\(r.partition)]@\(r.offset)\t\(r.ceType ?? "-")\t\(r.errorKind)\t\(r.reason)")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one dead letter; the payload only with --payload.")
        @Argument var id: Int64
        @Flag(help: "Print the payload too (it may hold personal data: do not paste it into tickets).") var payload = false
        @Option(help: "Why the payload is read (a case or request reference); required with --payload and logged.")
        var purpose: String?
        @Option(help: "Who reads it (default: $USER); the database login is logged as well.") var operatorName: String?

        /// The operators' key when KOKI_DLQ_PRIVATE_KEY_FILE names one (a body sealed without it does not open).
        static func opener() throws -> DeadLetterOpener? {
            guard let path = ProcessInfo.processInfo.environment["KOKI_DLQ_PRIVATE_KEY_FILE"], !path.isEmpty else { return nil }
            do { return try DeadLetterOpener.fromEnvironment() } catch { throw fail("\(error)") }
        }

        func validate() throws {
            if payload, (purpose ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
                throw ValidationError("--payload needs --purpose (a case or request reference): every read of a body is logged")
            }
        }

        mutating func run() async throws {
            let (id, payload, purpose, by) = (self.id, self.payload, self.purpose ?? "", operatorName ?? defaultOperator())
            let opener = payload ? try Self.opener() : nil
            let d = try await withDatabase { conn in
                payload ? try DeadLetterOperations.showPayload(id, by: by, purpose: purpose, opener: opener, on: conn)
                        : try DeadLetterOperations.show(id, on: conn)
            }
            let s = d.summary
            print("id:        \(s.id)\nstatus:    \(s.status)\ngroup:     \(s.group)")
            print("from:      \(s.topic)[\(s.partition)]@\(s.offset)\nce_id:     \(s.ceID ?? "-")\nce_type:   \(s.ceType ?? "-")")
            print("kind:      \(s.errorKind)\nreason:    \(s.reason)\nat:        \(s.deadLetteredAt)")
            if let at = d.resolvedAt { print("resolved:  \(at) by \(d.resolvedBy ?? "-"): \(d.note ?? "")") }
            print("headers:   " + d.headers.map { "\($0.key)=\($0.value.map { String(decoding: $0, as: UTF8.self) } ?? "null")" }
                .joined(separator: ", "))
            if payload { print("payload:   " + (d.payload.map { String(decoding: $0, as: UTF8.self) } ?? "null")) }
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Re-publish a dead letter to its original topic after its cause is fixed.")
        @Argument var id: Int64
        @Option(help: "What was fixed.") var note: String?
        @Option(help: "Who replays it (default: $USER).") var operatorName: String?

        mutating func run() async throws {
            let (id, note, by) = (self.id, self.note, operatorName ?? defaultOperator())
            // Published with the operator's own Kafka credentials (KOKI_KAFKA_*), not through the
            // relay, which may write only koki's topics.
            let producer: KafkaProducer
            do {
                producer = try KafkaProducer(config: try KafkaConfig.fromEnvironment(clientID: "koki-dlq-replay"))
            } catch {
                throw fail("\(error)")
            }
            let opener = try Show.opener()
            try await withDatabase { conn in
                try DeadLetterOperations.replay(id, by: by, note: note, opener: opener, on: conn) { message in
                    if case .failure(let error) = producer.sendBlocking([message])[0] { throw error }
                }
            }
            print("dead letter \(id) replayed by \(by)")
        }
    }

    struct Discard: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Close a dead letter without applying it.")
        @Argument var id: Int64
        @Option(help: "Why it is discarded (required).") var reason: String
        @Option(help: "Who discards it (default: $USER).") var operatorName: String?

        mutating func run() async throws {
            let (id, reason, by) = (self.id, self.reason, operatorName ?? defaultOperator())
            try await withDatabase { try DeadLetterOperations.discard(id, by: by, reason: reason, on: $0) }
            print("dead letter \(id) discarded by \(by)")
        }
    }
}

func defaultOperator() -> String {
    ProcessInfo.processInfo.environment["USER"] ?? ProcessInfo.processInfo.environment["LOGNAME"] ?? "operator"
}

/// Runs `body` on a connection from `KOKI_DATABASE_URL` (or `PG*`); errors become a
/// non-zero exit with a message.
func withDatabase<T: Sendable>(as role: CommandRole = .admin,
                                _ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
    do {
        let conn = try await PostgresConnection.connect(PostgresConnection.conninfo())
        try await conn.run { try role.assume(on: $0) }
        return try await conn.run(body)
    } catch let error as DeadLetterOperations.Refused {
        throw fail(error.description)
    } catch let error as PostgresError {
        throw fail(error.operatorText)
    } catch let error as KafkaError {
        throw fail("publishing failed, nothing was recorded: \(error)")
    }
}

extension PostgresError {
    /// What a command prints: the failure, and for a connection libpq's reason (the host and port,
    /// or the login refused — never a password), so a wrong password does not read as an outage.
    var operatorText: String {
        description + (connectionFailureReason.map { ": \($0)" } ?? "")
    }
}

/// The database role an operator command works as (least privilege): the counter's reads as
/// `koki_clerk`, every other command as `koki_admin` (which holds the clerk's grants too), and
/// what rewrites the schema or every sealed value as the login itself (the owner).
/// `KOKI_DB_ROLE` overrides (`none`: the login's own rights). The login must be a member of the
/// role; a login that is not is refused before anything is read.
enum CommandRole: String, Sendable {
    case admin = "koki_admin"
    case clerk = "koki_clerk"
    case owner = ""

    func assume(on conn: PostgresConnection, env: [String: String] = ProcessInfo.processInfo.environment) throws {
        let name = env["KOKI_DB_ROLE"].map { $0 == "none" ? "" : $0 } ?? rawValue
        guard !name.isEmpty else { return }
        guard name.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 }) else {
            throw PostgresError(.connection, "KOKI_DB_ROLE must be a role name (lower-case letters, digits, _) or none")
        }
        do {
            try conn.execute(SQL(unsafeSQL: "SET ROLE \(name)"))
        } catch let error as PostgresError where error.sqlState == "42501" {
            throw PostgresError(.connection, "this database login may not work as \(name) (GRANT \(name) TO the login)",
                                sqlState: error.sqlState)
        }
    }
}
