import ArgumentParser
import Foundation
import Kafka
import KokiBase
import KokiEvents
import KokiSecrets
import KokiStore
import Postgres
import Transfer

/// `koki audit …` and `koki policy show` — the transfer log and the policy, for the
/// 情報システム管理者 (seed III-5).
struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The transfer log: verify its chain, review what was sent.",
                                                    subcommands: [Verify.self, Checkpoint.self, Report.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute the hash chains of the transfer log and the access log; report the first broken, missing or "
                + "inserted row (KOKI_DATABASE_URL).",
            discussion: "With --checkpoints, every head recorded by `koki audit checkpoint` must still be in its chain.")

        @Option(help: "A file of checkpoints (JSON lines) kept outside the database.") var checkpoints: String?
        @Flag(help: "Also check every checkpoint on \(Topics.auditCheckpoints) (KOKI_KAFKA_BROKERS).") var checkpointTopic = false
        @Option(help: "The relay's MAC key file (KOKI_AUDIT_MAC_KEY_FILE): check every row's MAC (repeat it for earlier keys).")
        var macKeyFile: [String] = []

        mutating func run() async throws {
            var recorded: [AuditLog.Checkpoint] = []
            if checkpointTopic {
                do {
                    recorded += try await AuditCheckpoints.read(config: try KafkaConfig.fromEnvironment(clientID: "koki-audit"))
                } catch {
                    throw fail("reading \(Topics.auditCheckpoints): \(error)")
                }
            }
            if let checkpoints {
                guard let text = try? String(contentsOfFile: checkpoints, encoding: .utf8) else {
                    throw fail("cannot read \(checkpoints)")
                }
                for line in text.split(separator: "\n") where !line.isEmpty {
                    guard let c = try? JSONDecoder().decode(AuditLog.Checkpoint.self, from: Data(line.utf8)) else {
                        throw fail("\(checkpoints) has a line that is not a checkpoint")
                    }
                    recorded.append(c)
                }
            }
            let marks = recorded
            let keys: [AuditMacKey]
            do {
                keys = try macKeyFile.map { try AuditMacKey.load($0, variable: "--mac-key-file") }
            } catch {
                throw fail("\(error)")
            }
            let (rows, problem, anchored, reads, readProblem, readsAnchored, macs) = try await withDatabase {
                conn -> (Int, String?, String?, Int, String?, String?, (checked: Int, problem: String?)?) in
                let (rows, problem) = try AuditLog.verify(on: conn)
                let (reads, readProblem) = try AccessLog.verify(on: conn)
                let heads = marks.compactMap { mark in mark.accessID.flatMap { id in mark.accessHash.map { (id, $0, mark.takenAt) } } }
                // Where the MACs started, as the earliest checkpoint kept outside the database says.
                let anchoredFrom = marks.compactMap(\.macFrom).min()
                let macs = keys.isEmpty ? nil : try AuditLog.verifyMacs(on: conn, anchoredFrom: anchoredFrom) { seq, hash in
                    keys.map { $0.mac(seq: seq, hash: hash) }
                }
                return (rows, problem, try AuditLog.verify(marks, on: conn), reads, readProblem,
                        try AccessLog.verify(heads: heads, on: conn), macs)
            }
            // The outcome is recorded: the relay publishes the last one's age and result (alert rules).
            let ok = problem == nil && anchored == nil && readProblem == nil && readsAnchored == nil && macs?.problem == nil
            _ = try await withDatabase { conn in
                try conn.execute("INSERT INTO audit_verifications (ok, rows) VALUES (\(ok), \(rows))")
            }
            if let problem = macs?.problem { throw fail("the transfer log's MACs do not hold: \(problem)") }
            if let macs { print("transfer log MACs verified: \(macs.checked) rows") }
            if let problem { throw fail("the transfer log is broken: \(problem)") }
            if let anchored { throw fail("the transfer log does not match its checkpoints: \(anchored)") }
            if let readProblem { throw fail("the access log is broken: \(readProblem)") }
            if let readsAnchored { throw fail("the access log does not match its checkpoints: \(readsAnchored)") }
            print("transfer log verified: \(rows) rows, chain intact" + (marks.isEmpty ? "" : ", \(marks.count) checkpoints match"))
            print("access log verified: \(reads) rows, chain intact")
        }
    }

    struct Checkpoint: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record the chain's head outside the database: append it to a file (and print it).",
            discussion: """
                Run it daily (after the last business-day run) and keep the file where the database's \
                operators cannot write — the 情報システム管理者's store, WORM storage, a signed mail. \
                `koki audit verify --checkpoints FILE` then finds a chain rebuilt after any checkpoint.
                """)

        @Option(help: "The checkpoint file to append to (JSON lines).") var out: String?
        @Flag(help: "Also publish it to \(Topics.auditCheckpoints) (KOKI_KAFKA_BROKERS).") var publish = false

        mutating func run() async throws {
            guard let head = try await withDatabase({ try AuditLog.checkpoint(on: $0) }) else {
                print("the transfer log is empty: no checkpoint")
                return
            }
            let line = try AuditCheckpoints.line(head)
            if publish {
                do {
                    let producer = try KafkaProducer(config: try KafkaConfig.fromEnvironment(clientID: "koki-audit"))
                    if case .failure(let error) = try await producer.send([try AuditCheckpoints.message(head)])[0] { throw error }
                } catch {
                    throw fail("publishing the checkpoint failed: \(error)")
                }
            }
            if let out {
                if !FileManager.default.fileExists(atPath: out) {
                    guard FileManager.default.createFile(atPath: out, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                        throw fail("cannot create \(out)")
                    }
                }
                guard let handle = FileHandle(forWritingAtPath: out) else { throw fail("cannot write \(out)") }
                defer { try? handle.close() }
                try handle.seekToEnd()
                try handle.write(contentsOf: Data((line + "\n").utf8))
            }
            print(line)
        }
    }

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Counts per event type and legal basis sent to a destination.")

        @Option(help: "The destination (koiki, welfare-livelihood, disability-welfare, child-development, municipal-tax, kokuhoren).")
        var destination: String
        @Option(help: "First day, YYYY-MM-DD (Asia/Tokyo).") var from: String
        @Option(help: "Last day, YYYY-MM-DD (Asia/Tokyo).") var to: String
        @Flag(help: "CSV: eventType,legalBasis,count") var csv = false

        func validate() throws {
            guard let first = LocalDate(iso: from), let last = LocalDate(iso: to) else {
                throw ValidationError("--from and --to must be dates YYYY-MM-DD")
            }
            guard first <= last else { throw ValidationError("--to must not be before --from") }
        }

        mutating func run() async throws {
            let (destination, first, last) = (self.destination, LocalDate(iso: from)!, LocalDate(iso: to)!)
            let lines = try await withDatabase { try AuditLog.report(destination: destination, from: first, to: last, on: $0) }
            if csv {
                print("eventType,legalBasis,count")
                for l in lines { print("\(l.eventType),\"\(l.legalBasis.replacingOccurrences(of: "\"", with: "\"\""))\",\(l.count)") }
                return
            }
            print("\(destination): \(first) – \(last)")
            for l in lines { print("  \(l.eventType.padding(toLength: 32, withPad: " ", startingAt: 0)) \(l.count)  (\(l.legalBasis))") }
            print("  total \(lines.reduce(0) { $0 + $1.count })")
        }
    }
}

struct Policy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The transfer policy.", subcommands: [Show.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every destination: topic, legal basis, active period, and per event type the fields it may receive.")

        mutating func run() async throws {
            let rules = try await withDatabase { try TransferPolicy.load(on: $0) }
            for d in rules.destinations.values.sorted(by: { $0.destination < $1.destination }) {
                print("\(d.destination) — \(d.name)  topic \(d.topic)")
                print("  basis: \(d.legalBasis)")
                print("  active: \(d.activeFrom) – \(d.activeTo.map { "\($0)" } ?? "")")
                for (type, rule) in (rules.rules[d.destination] ?? [:]).sorted(by: { $0.key < $1.key }) {
                    let flags = [rule.myNumberAllowed ? "個人番号" : nil, rule.requiredByStatute ? "required by statute" : nil]
                        .compactMap { $0 }.joined(separator: ", ")
                    print("  \(type)\(flags.isEmpty ? "" : " [\(flags)]"): \(rule.fields.sorted().joined(separator: ", "))")
                }
            }
        }
    }
}
