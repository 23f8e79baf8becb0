import Foundation
import Testing
@testable import WorkerRuntime

@Suite("Event ids")
struct EventIDTests {
    @Test func derivedEventIdsAreRandomVersion4UUIDsInLowercase() throws {
        let ids = (0..<2000).map { _ in TraceContext.uuid() }
        #expect(Set(ids).count == ids.count)
        for id in ids {
            let uuid = try #require(UUID(uuidString: id), "\(id) is not a UUID")
            #expect(uuid.uuidString.lowercased() == id)
            let bytes = withUnsafeBytes(of: uuid.uuid) { Array($0) }
            #expect(bytes[6] >> 4 == 4, "version 4")
            #expect(bytes[8] >> 6 == 0b10, "RFC 4122 variant")
        }
    }
}
