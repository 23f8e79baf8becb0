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

    @Test func aDerivedEventContinuesItsCausesTraceWithANewSpan() throws {
        let parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        let children = (0..<200).map { _ in TraceContext.child(of: parent) }
        #expect(Set(children).count == children.count, "a new span each time")
        for child in children {
            let parts = child.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
            #expect(parts.count == 4 && parts[0] == "00" && parts[1] == "0af7651916cd43dd8448eb211c80319c" && parts[3] == "01", "\(child)")
            #expect(parts[2].count == 16 && parts[2] != "b7ad6b7169203331" && parts[2].allSatisfy(\.isHexDigit))
        }
        #expect(TraceContext.child(of: "00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-00").hasSuffix("-00"), "flags kept")
    }

    @Test("a cause without a usable traceparent starts a trace", arguments: [
        nil, "", "garbage", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331", "00-0af7651916cd43dd8448eb211c80319g-b7ad6b7169203331-01",
        "00_0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01x",
    ])
    func startsATrace(parent: String?) {
        let child = TraceContext.child(of: parent)
        let parts = child.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        #expect(parts.map(\.count) == [2, 32, 16, 2], "\(child)")
        #expect(parts[0] == "00" && parts[3] == "01")
        #expect(child.utf8.allSatisfy { $0 == UInt8(ascii: "-") || ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) })
        #expect(!child.contains("0af7651916cd43dd8448eb211c80319c"))
    }
}
