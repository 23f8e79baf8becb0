import Foundation
import KokiEvents
import PaymentWorker
import ResidentWorker
import Testing
import TaxWorker

/// docker/kafka-acls.sh, run against a stand-in for Kafka's `kafka-acls.sh` that records what it
/// is asked to grant: each worker may read exactly the topics it subscribes to, every topic koki
/// reads has its upstream writer, every dead-letter topic its writer (the relay) and every topic
/// a dead letter is replayed into its replayer (the operator), and each destination reads its own.
@Suite("Kafka ACLs")
struct KafkaAclTests {
    struct Grant: Hashable {
        let principal: String
        let operation: String
        let resource: String  // "topic:NAME", "prefixed-topic:NAME", "group:NAME", "prefixed-group:NAME", "cluster"
    }

    func grants() throws -> Set<Grant> {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("acls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let record = scratch.appendingPathComponent("calls")
        let stub = scratch.appendingPathComponent("kafka-acls.sh")
        // One line per call, the arguments separated by tabs.
        try "#!/bin/sh\n(IFS='\t'; printf '%s\\n' \"$*\") >> '\(record.path)'\n".write(to: stub, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: stub.path)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [Env.repoRoot.appendingPathComponent("docker/kafka-acls.sh").path]
        process.environment = ProcessInfo.processInfo.environment.merging(
            ["KAFKA_BIN": scratch.path, "BOOTSTRAP": "kafka:9093", "ADMIN_CONFIG": "/dev/null"]) { $1 }
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        var result = Set<Grant>()
        for line in try String(contentsOf: record, encoding: .utf8).split(separator: "\n") {
            let words = line.split(separator: "\t").map(String.init)
            var principal = "", operations: [String] = [], resource = "", prefixed = false
            var i = 0
            while i < words.count {
                switch words[i] {
                case "--allow-principal": principal = words[i + 1]; i += 1
                case "--operation": operations.append(words[i + 1]); i += 1
                case "--resource-pattern-type": prefixed = words[i + 1] == "prefixed"; i += 1
                case "--topic": resource = "topic:" + words[i + 1]; i += 1
                case "--group": resource = "group:" + words[i + 1]; i += 1
                case "--cluster": resource = "cluster"
                default: break
                }
                i += 1
            }
            if prefixed { resource = "prefixed-" + resource }
            for operation in operations { result.insert(Grant(principal: principal, operation: operation, resource: resource)) }
        }
        return result
    }

    func topics(_ grants: Set<Grant>, _ principal: String, _ operation: String) -> Set<String> {
        Set(grants.filter { $0.principal == principal && $0.operation == operation && $0.resource.hasPrefix("topic:") }
            .map { String($0.resource.dropFirst("topic:".count)) })
    }

    @Test func everyPrincipalHasWhatItsCodeNeedsAndNoMore() throws {
        let grants = try grants()
        for (worker, subscribed) in [("koki-resident-worker", ResidentHandler.topics), ("koki-tax-worker", TaxHandler.topics),
                                     ("koki-payment-worker", PaymentHandler.topics)] {
            #expect(topics(grants, "User:\(worker)", "Read") == Set(subscribed), "\(worker)")
            #expect(grants.contains(Grant(principal: "User:\(worker)", operation: "Read", resource: "group:\(worker)")))
            #expect(!grants.contains { $0.principal == "User:\(worker)" && $0.operation == "Write" }, "\(worker) writes to the database only")
        }
        // Every topic a worker reads has a writer: its upstream system (or, for koki's own, the relay).
        let workers = Set(ResidentHandler.topics + TaxHandler.topics + PaymentHandler.topics)
        for topic in workers {
            let writers = grants.filter { $0.operation == "Write" && $0.resource == "topic:\(topic)" && $0.principal != "User:koki-operator" }
            #expect(!writers.isEmpty || topic.hasPrefix("koki."), "\(topic) has no upstream writer")
        }
        #expect(Set(Topics.inbound.map(\.name)) == workers.subtracting([Topics.residentUpdates]), "Topics.inbound is what the workers read")
        // Dead letters: the relay writes each by name (Kafka's prefixes match a name's start, not its end).
        #expect(topics(grants, "User:koki-relay", "Write").filter { $0.hasSuffix(".dlq") } == Set(Topics.deadLetters.map(\.name)))
        #expect(!grants.contains { $0.resource.hasPrefix("prefixed-topic:.") }, "a prefix starting with a dot matches nothing koki has")
        // The relay writes koki's internal topics, never the audit checkpoints (a forged one would anchor nothing true).
        #expect(!grants.contains { $0.principal == "User:koki-relay" && $0.operation == "Write" && $0.resource.hasPrefix("prefixed-topic:koki") })
        #expect(topics(grants, "User:koki-relay", "Write").isSuperset(of: [Topics.residentUpdates, Topics.notices]))
        #expect(!topics(grants, "User:koki-relay", "Write").contains(Topics.auditCheckpoints))
        // A dead letter goes back to its topic under the operator's name.
        #expect(topics(grants, "User:koki-operator", "Write").isSuperset(of: Topics.deadLetters.map { String($0.name.dropLast(".dlq".count)) }))
        // Each destination reads its own topic and nobody else's.
        let readers = Dictionary(grouping: grants.filter { $0.operation == "Read" && ($0.resource.hasPrefix("topic:transfer.") || $0.resource == "topic:koki.notices.v1") },
                                 by: \.resource)
        for topic in Topics.outbound.map(\.name) + [Topics.notices] {
            #expect(readers["topic:\(topic)"]?.count == 1, "\(topic): \(readers["topic:\(topic)"]?.map(\.principal) ?? [])")
        }
    }
}
