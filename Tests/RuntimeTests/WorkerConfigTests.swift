import Foundation
import Testing
@testable import WorkerRuntime

@Suite("Worker configuration")
struct WorkerConfigTests {
    let base = ["KOKI_KAFKA_BROKERS": "127.0.0.1:9092", "KOKI_DATABASE_URL": "postgresql://koki@127.0.0.1/koki"]

    @Test func databaseConnectionsDefaultToOneAndAreRead() throws {
        #expect(try WorkerConfig.fromEnvironment(base, name: "w", defaultHTTPPort: 0).connections == 1)
        let three = base.merging(["KOKI_DB_CONNECTIONS": "3"]) { $1 }
        #expect(try WorkerConfig.fromEnvironment(three, name: "w", defaultHTTPPort: 0).connections == 3)
    }

    @Test("a connection count out of range names the variable", arguments: ["0", "17", "two"])
    func outOfRange(value: String) {
        let env = base.merging(["KOKI_DB_CONNECTIONS": value]) { $1 }
        let error = #expect(throws: WorkerConfig.Invalid.self) { try WorkerConfig.fromEnvironment(env, name: "w", defaultHTTPPort: 0) }
        #expect(error?.variable == "KOKI_DB_CONNECTIONS")
    }
}
