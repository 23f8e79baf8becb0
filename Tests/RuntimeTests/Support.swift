import Foundation
import Kafka
import KokiStore
import Postgres
import Testing
@testable import WorkerRuntime

/// The servers scripts/test provides; a missing one fails the suite (it never skips).
enum Env {
    struct Missing: Error, CustomStringConvertible {
        let name: String
        var description: String { "\(name) is not set: run the suites with scripts/test" }
    }

    static func require(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { throw Missing(name: name) }
        return value
    }

    static var repoRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
}

/// A fresh database with koki's migrations applied.
enum MigratedDatabase {
    static func create(serverURL: String? = nil) async throws -> String {
        let server = try serverURL ?? Env.require("KOKI_TEST_DATABASE_URL")
        let name = "rt_\(UInt64.random(in: 0...UInt64.max))"
        let admin = try await PostgresConnection.connect(server)
        try await admin.run { try $0.executeScript(unsafeSQL: "CREATE DATABASE \(name)") }
        let url = String(server[...server.lastIndex(of: "/")!]) + name
        let migrator = try Migrator(directory: Env.repoRoot.appendingPathComponent("migrations"))
        let conn = try await PostgresConnection.connect(url)
        try await conn.run {
            try migrator.apply(on: $0)
            // The tests play 年度 whose rates the union has not decided (R8): approved, as an operator would.
            for year in 2026...2027 {
                try TaxStore($0).approveProvisionalRates(fiscalYear: year, reason: "tests: a synthetic 年度 on provisional rates")
            }
        }
        return url
    }
}

/// A CloudEvents message for the sample worker's topic.
func sampleEvent(topic: String, id: String, item: String, value: Int, type: String = "sample.item-updated",
                 traceparent: String? = nil) -> OutgoingMessage {
    var headers = [
        KafkaHeader("ce_specversion", "1.0"), KafkaHeader("ce_id", id), KafkaHeader("ce_type", type),
        KafkaHeader("ce_source", "urn:test"), KafkaHeader("ce_time", "2026-11-28T00:00:00Z"),
        KafkaHeader("content-type", "application/json"),
    ]
    if let traceparent { headers.append(KafkaHeader("traceparent", traceparent)) }
    return OutgoingMessage(topic: topic, key: item, value: "{\"itemId\":\"\(item)\",\"value\":\(value)}", headers: headers)
}

/// A consumed-message stand-in for in-process tests of the batch logic.
func consumed(_ message: OutgoingMessage, partition: Int32 = 0, offset: Int64) -> ConsumedMessage {
    ConsumedMessage(topic: message.topic, partition: partition, offset: offset, key: message.key, value: message.value,
                    headers: message.headers, timestampMillis: 1_795_000_000_000)
}

extension PostgresConnection {
    func count(_ sql: SQL) throws -> Int {
        try query(sql)[0].decode(Int.self, at: 0)
    }
}
