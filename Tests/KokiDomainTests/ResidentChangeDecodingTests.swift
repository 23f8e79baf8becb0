import Foundation
import KokiBase
import KokiEvents
import KokiSynth
import Testing

/// The resident worker reads the register's bodies by hand (`ResidentChange(plainJSON:)`) and
/// falls back to `JSONDecoder` for anything off the plain shape: whatever the hand reader
/// returns, `JSONDecoder` must return too, so a body means one thing whichever reads it.
@Suite("ResidentChange read by hand")
struct ResidentChangeDecodingTests {
    let decoder = JSONDecoder()

    func both(_ bytes: [UInt8]) -> (plain: ResidentChange?, decoded: ResidentChange?) {
        (ResidentChange(plainJSON: bytes), try? decoder.decode(ResidentChange.self, from: Data(bytes)))
    }

    @Test func theSyntheticRegisterReadsTheSameBothWays() throws {
        var options = SyntheticResidents.Options()
        options.residents = 3_000
        let bodies = SyntheticResidents.events(options).compactMap(\.value)
        #expect(bodies.count > 3_000)
        for body in bodies {
            let (plain, decoded) = both(body)
            #expect(plain != nil && plain == decoded)
        }
        #expect(bodies.contains { ResidentChange(plainJSON: $0)?.person.previousAddress != nil })
        #expect(bodies.contains { ResidentChange(plainJSON: $0)?.person.nextAddress != nil })
    }

    /// Every member of a moved-in and a moved-out body removed, nulled or replaced by a value of
    /// each other kind; names added and repeated; escapes.
    @Test func offTheShapeTheHandReaderAgreesOrStepsAside() throws {
        var options = SyntheticResidents.Options()
        options.residents = 3_000
        let bodies = SyntheticResidents.events(options).compactMap(\.value)
        let samples = [bodies.first { ResidentChange(plainJSON: $0)?.person.previousAddress != nil }!,
                       bodies.first { ResidentChange(plainJSON: $0)?.person.nextAddress != nil }!]
        let replacements: [JSONValue?] = [nil, .null, .integer(12), .bool(true), .string("x"), .string("2026-02-30"),
                                          .string("2026-02-28"), .string("male"), .object([:]), .array([])]
        var variants: [[UInt8]] = []
        for sample in samples {
            let tree = try JSONValue.parse(sample)
            for path in Self.paths(tree) {
                for replacement in replacements {
                    variants.append(try Self.setting(tree, at: path, to: replacement).serialized())
                }
            }
            variants.append(try Self.setting(tree, at: ["unknown"], to: .string("ignored")).serialized())
            variants.append(try Self.setting(tree, at: ["person", "unknown"], to: .integer(1)).serialized())
            let text = String(decoding: sample, as: UTF8.self)
            variants.append(Array(text.replacingOccurrences(of: "{\"atenaNo\":", with: "{\"atenaNo\":\"0000000999\",\"atenaNo\":").utf8))
            variants.append(Array(text.replacingOccurrences(of: "川口市", with: "\\u5ddd口市").utf8))
            variants.append(Array(text.replacingOccurrences(of: "-", with: "\\/").utf8))
        }
        var accepted = 0, declined = 0
        for variant in variants {
            let (plain, decoded) = both(variant)
            if let plain {
                accepted += 1
                #expect(plain == decoded, "\(String(decoding: variant, as: UTF8.self))")
            } else {
                declined += 1
            }
        }
        // Both sides are exercised: plain variants (an added name, a valid other date) and ones
        // that only JSONDecoder may judge.
        #expect(accepted > 50 && declined > 200, "accepted \(accepted), declined \(declined)")
        let repeated = Array(String(decoding: samples[0], as: UTF8.self)
            .replacingOccurrences(of: "{\"atenaNo\":", with: "{\"atenaNo\":\"0000000999\",\"atenaNo\":").utf8)
        #expect(ResidentChange(plainJSON: repeated) == nil, "a repeated name is left to JSONDecoder")
        #expect(ResidentChange(plainJSON: Array(String(decoding: samples[0], as: UTF8.self)
            .replacingOccurrences(of: "川口市", with: "\\u5ddd口市").utf8)) == nil, "so is a \\u escape")
    }

    /// Paths to every member of every object in the tree.
    static func paths(_ value: JSONValue, prefix: [String] = []) -> [[String]] {
        guard case .object(let members) = value else { return [] }
        return members.keys.sorted().flatMap { key in [prefix + [key]] + paths(members[key]!, prefix: prefix + [key]) }
    }

    /// The tree with the member at `path` replaced (nil: removed).
    static func setting(_ value: JSONValue, at path: [String], to replacement: JSONValue?) -> JSONValue {
        guard case .object(var members) = value, let first = path.first else { return value }
        if path.count == 1 {
            members[first] = replacement
        } else if let child = members[first] {
            members[first] = setting(child, at: Array(path.dropFirst()), to: replacement)
        }
        return .object(members)
    }
}
