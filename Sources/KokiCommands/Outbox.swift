import ArgumentParser
import Foundation
import Postgres
import WorkerRuntime

/// `koki outbox …` — rows the relay holds.
struct OutboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox",
        abstract: "List held outbox rows, release them to be decided and sent again, or discard them.",
        subcommands: [Held.self, Release.self, Discard.self])

    struct Discard: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Discard a held row: it is never sent (recorded in operator_actions with who and why, never its body).")
        @Argument var id: Int64
        @Option(help: "Why (no personal data).") var reason: String
        @Option(help: "Who (default: $USER); the database login is recorded as well.") var operatorName: String?

        mutating func run() async throws {
            let (id, reason, by) = (self.id, self.reason, operatorName ?? defaultOperator())
            do {
                try await withDatabase { try OperatorActions.discardHeld(id, reason: reason, operatorName: by, on: $0) }
            } catch let error as OperatorActions.Refused {
                throw fail(error.description)
            }
            print("discarded outbox row \(id) (recorded)")
        }
    }

    struct Held: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List held rows (no payloads).")
        @Option(help: "At most this many.") var limit = 100

        mutating func run() async throws {
            let limit = self.limit
            let rows = try await withOutbox { try OutboxOperations.held(limit: limit, on: $0) }
            if rows.isEmpty { print("no held rows"); return }
            print("id\ttopic\tce_type\theld_at\tblocks_key\treason")
            for r in rows {
                print("\(r.id)\t\(r.topic)\t\(r.ceType)\t\(r.heldAt)\t\(r.blocksKey)\t\(r.reason)")
            }
        }
    }

    struct Release: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Release a held row (and, for a row Kafka refused, the rows of its key held behind it); recorded in operator_actions.",
            discussion: "The relay decides each released row again: the transfer policy may hold it again.")
        @Argument var id: Int64
        @Option(help: "Why (no personal data): the rule fixed, the broker's limit raised …") var reason: String
        @Option(help: "Who (default: $USER); the database login is recorded as well.") var operatorName: String?

        mutating func run() async throws {
            let (id, reason, by) = (self.id, self.reason, operatorName ?? defaultOperator())
            let released = try await withOutbox { try OutboxOperations.release(id, reason: reason, operatorName: by, on: $0) }
            print("released \(released) row\(released == 1 ? "" : "s") from outbox row \(id)")
        }
    }

    static func withOutbox<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        do {
            return try await withDatabase(body)
        } catch let error as OutboxOperations.Refused {
            throw fail(error.description)
        }
    }
}
