import Foundation
import Postgres

/// The throwaway PostgreSQL that scripts/test starts. A missing server is a failure, not
/// a skip: these suites must run in CI.
enum TestDatabase {
    struct Missing: Error, CustomStringConvertible {
        var description: String { "KOKI_TEST_DATABASE_URL is not set: run the suites with scripts/test" }
    }

    static func serverURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["KOKI_TEST_DATABASE_URL"], !url.isEmpty else {
            throw Missing()
        }
        return url
    }

    /// A new, empty database for one test; returns its URL.
    static func fresh() async throws -> String {
        let server = try serverURL()
        let name = "t_\(UInt64.random(in: 0...UInt64.max))"
        let admin = try await PostgresConnection.connect(server)
        try await admin.run { try $0.executeScript(unsafeSQL: "CREATE DATABASE \(name)") }
        guard let slash = server.lastIndex(of: "/") else { return server }
        return String(server[...slash]) + name
    }

    static func connect() async throws -> PostgresConnection {
        try await PostgresConnection.connect(try await fresh())
    }
}
