import Foundation
import KokiBase
import Testing

@Suite("JSONValue")
struct JSONValueTests {
    @Test func integersStayIntegersAndBooleansStayBooleans() throws {
        let value = try JSONValue.parse(Array(#"{"amount":12000,"rate":0.5,"flag":true,"one":1,"none":null,"big":1e300}"#.utf8))
        let object = try #require(value.objectValue)
        #expect(object["amount"] == .integer(12000))
        #expect(object["rate"] == .number(0.5))
        #expect(object["flag"] == .bool(true))
        #expect(object["one"] == .integer(1))
        #expect(object["none"] == .null)
        #expect(object["big"] == .number(1e300))
        let text = String(decoding: try value.serialized(), as: UTF8.self)
        #expect(text.contains(#""amount":12000"#))
        #expect(text.contains(#""flag":true"#))
        #expect(text.contains(#""one":1"#))
    }

    @Test func serializesWithSortedKeysUnescapedSlashesAndJapaneseAsIs() throws {
        let value = JSONValue.object(["b": .string("川口市/本町"), "a": .array([.integer(-3), .object(["z": .null, "y": .bool(false)])])])
        let text = String(decoding: try value.serialized(), as: UTF8.self)
        #expect(text == #"{"a":[-3,{"y":false,"z":null}],"b":"川口市/本町"}"#)
        #expect(try JSONValue.parse(Array(text.utf8)) == value)
    }

    @Test("refuses what is not JSON", arguments: ["", "{", "{\"a\":}", "[1,]", "nul", "{\"a\":1} x", "\u{FEFF}"])
    func refusesInvalid(text: String) {
        #expect(throws: (any Error).self) { try JSONValue.parse(Array(text.utf8)) }
    }

    @Test func deepNestingIsRefusedNotACrash() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: (any Error).self) { try JSONValue.parse(Array(deep.utf8)) }
    }

    @Test("strict syntax", arguments: [
        (#"{"a":[1,2.5,-0.5e-3,true,false,null,"x\u00e9\n"]}"#, true), (#"  {"a" : {}} "#, true), ("[]", true), ("0", true),
        (#"{"a":1,}"#, false), ("[1,]", false), ("01", false), ("1.", false), (".5", false), ("+1", false), ("1e", false),
        (#"{"a":"\x"}"#, false), (#"{"a":"\u12"}"#, false), ("{\"a\":\"tab\there\"}", false), ("{'a':1}", false),
        (#"{"a" 1}"#, false), (#"{a:1}"#, false), ("[1 2]", false), ("tru", false), ("nulls", false), (#"{"a":1}}"#, false),
    ])
    func strictSyntax(text: String, valid: Bool) {
        #expect(JSONSyntax.isValid(Array(text.utf8)) == valid)
    }

    @Test func nestingUpToTheLimitIsJSONAndPastItIsNot() {
        func nested(_ depth: Int) -> [UInt8] { Array((String(repeating: "[", count: depth) + String(repeating: "]", count: depth)).utf8) }
        #expect(JSONSyntax.isValid(nested(JSONSyntax.maxDepth)))
        #expect(!JSONSyntax.isValid(nested(JSONSyntax.maxDepth + 1)))
    }

    @Test func stringsAreUnescapedAndNumbersKeepTheirKind() throws {
        let value = try JSONValue.parse(Array(#"["a\"b\\c\/d\n\t\r\b\f", "\u00e9\u5ddd\ud83d\ude00", "川口", 9223372036854775807, 9223372036854775808, -0, 1.0, 2E2]"#.utf8))
        #expect(value == .array([.string("a\"b\\c/d\n\t\r\u{08}\u{0C}"), .string("é川😀"), .string("川口"),
                                 .integer(.max), .number(9223372036854775808), .integer(0), .number(1), .number(200)]))
    }

    @Test("a string that is not Unicode is not JSON", arguments: [#"["\ud83d"]"#, #"["\ude00"]"#, #"["\ud83d\u0041"]"#])
    func loneSurrogates(text: String) {
        #expect(throws: (any Error).self) { try JSONValue.parse(Array(text.utf8)) }
    }

    @Test func bytesThatAreNotUTF8AreNotJSON() throws {
        #expect(throws: (any Error).self) { try JSONValue.parse([UInt8(ascii: "\""), 0xFF, UInt8(ascii: "\"")]) }
        #expect(try JSONValue.parse(Array("\"川\"".utf8)) == .string("川"))
    }

    @Test func theLastOfRepeatedKeysWins() throws {
        #expect(try JSONValue.parse(Array(#"{"a":1,"a":2}"#.utf8)) == .object(["a": .integer(2)]))
    }

    @Test func stringPairsReadHeadersAsPostgreSQLPrintsThem() throws {
        let text = #"[["ce_id", "a\"b"], ["n", null], ["jp", "\u5ddd\n"] , [ "k" ,"" ]]"#
        let pairs = try #require(JSONSyntax.stringPairs(Array(text.utf8)))
        #expect(pairs.map(\.name) == ["ce_id", "n", "jp", "k"])
        #expect(pairs.map(\.value) == [Array("a\"b".utf8), nil, Array("川\n".utf8), []])
        #expect(JSONSyntax.stringPairs(Array("[]".utf8))?.isEmpty == true)
    }

    @Test("stringPairs refuses anything else", arguments: [
        "", "{}", "[1]", #"[["a"]]"#, #"[["a","b","c"]]"#, #"[["a",1]]"#, #"[[null,"b"]]"#, #"[["a","b"],]"#, #"[["a","b"]] x"#,
        #"[["a","b"]"#, #"[["a","\ud800"]]"#,
    ])
    func stringPairsRefuse(text: String) {
        #expect(JSONSyntax.stringPairs(Array(text.utf8)) == nil)
    }
}
