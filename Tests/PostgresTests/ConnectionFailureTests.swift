import Foundation
import Postgres
import Testing

/// A connection that fails says why, in one printable line an operator can log (libpq names the
/// host and port, never a password); no other error offers its server text for a log.
@Suite("Connection failures")
struct ConnectionFailureTests {
    @Test func aRefusedConnectionGivesALoggableReason() throws {
        do {
            _ = try PostgresConnection(connecting: "postgresql://koki:secret-password@127.0.0.1:1/koki?connect_timeout=2")
            Issue.record("connected to a closed port")
        } catch let error as PostgresError {
            let reason = try #require(error.connectionFailureReason)
            #expect(reason.contains("127.0.0.1") && reason.contains("refused"), "\(reason)")
            #expect(!reason.contains("secret-password") && !reason.contains("\n") && reason.count <= 200)
            #expect(error.isTransient)
        }
        let query = PostgresError(.query, "insert failed", sqlState: "23505", serverMessage: "Key (atena_no)=(0000000001) already exists.")
        #expect(query.connectionFailureReason == nil, "a statement's error may quote values: never offered for a log")
    }
}
