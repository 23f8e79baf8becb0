import Foundation

/// Any JSON value, as plain Swift data: what the relay projects and compares. Parsed with
/// `JSONDecoder` and written with `JSONEncoder`, which on Linux cost a fraction of
/// `JSONSerialization`'s `[String: Any]` (whose bridging to NSDictionary took three quarters
/// of the relay's time under `koki bench latency`).
///
/// Integers stay integers (`.integer`): an amount read as 12000 is written as 12000, never
/// as 12000.0; a number with a fraction or beyond Int64 is a `.number`.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Parses a JSON text; throws for anything that is not strictly JSON (`JSONSyntax`).
    public static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        guard JSONSyntax.isValid(bytes) else { throw NotJSON() }
        return try decoder.decode(JSONValue.self, from: Data(bytes))
    }

    private static let decoder = JSONDecoder()
    private static let encoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    public struct NotJSON: Error, CustomStringConvertible {
        public var description: String { "not a JSON text" }
    }

    /// The JSON text with object keys sorted and `/` unescaped.
    public func serialized() throws -> [UInt8] {
        Array(try Self.encoder.encode(self))
    }

    public var objectValue: [String: JSONValue]? {
        if case .object(let object) = self { object } else { nil }
    }

    public var stringValue: String? {
        if case .string(let text) = self { text } else { nil }
    }
}

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

/// A strict RFC 8259 syntax check, in one pass and without building values: Foundation's
/// `JSONDecoder` accepts a trailing comma (`[1,]`), and a body upstream sent must be JSON
/// exactly as the contract says.
public enum JSONSyntax {
    /// Nesting deeper than this is refused (a deeply nested body is an attack, not a record).
    public static let maxDepth = 512

    /// Whether a text that `isValid` is an object (it starts with `{`).
    public static func isObject(_ bytes: [UInt8]) -> Bool {
        bytes.first(where: { !$0.isJSONWhitespace }) == UInt8(ascii: "{")
    }

    public static func isValid(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { buffer in
            var reader = Reader(bytes: buffer)
            guard reader.value(depth: 0) else { return false }
            reader.skipWhitespace()
            return reader.index == buffer.count
        }
    }

    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        var current: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipWhitespace() {
            while current?.isJSONWhitespace == true { index += 1 }
        }

        mutating func value(depth: Int) -> Bool {
            skipWhitespace()
            guard let byte = current else { return false }
            switch byte {
            case UInt8(ascii: "{"): return container(depth: depth, close: UInt8(ascii: "}"), keyed: true)
            case UInt8(ascii: "["): return container(depth: depth, close: UInt8(ascii: "]"), keyed: false)
            case UInt8(ascii: "\""): return string()
            case UInt8(ascii: "t"): return literal("true")
            case UInt8(ascii: "f"): return literal("false")
            case UInt8(ascii: "n"): return literal("null")
            default: return number()
            }
        }

        mutating func container(depth: Int, close: UInt8, keyed: Bool) -> Bool {
            guard depth < JSONSyntax.maxDepth else { return false }
            index += 1
            skipWhitespace()
            if current == close { index += 1; return true }
            while true {
                if keyed {
                    skipWhitespace()
                    guard current == UInt8(ascii: "\""), string() else { return false }
                    skipWhitespace()
                    guard current == UInt8(ascii: ":") else { return false }
                    index += 1
                }
                guard value(depth: depth + 1) else { return false }
                skipWhitespace()
                guard let byte = current else { return false }
                index += 1
                if byte == close { return true }
                guard byte == UInt8(ascii: ",") else { return false }
            }
        }

        mutating func string() -> Bool {
            index += 1  // the opening quote
            while let byte = current {
                index += 1
                switch byte {
                case UInt8(ascii: "\""): return true
                case UInt8(ascii: "\\"):
                    guard let escaped = current else { return false }
                    index += 1
                    if escaped == UInt8(ascii: "u") {
                        for _ in 0..<4 {
                            guard let hex = current, hex.isHexDigit else { return false }
                            index += 1
                        }
                    } else if !"\"\\/bfnrt".utf8.contains(escaped) {
                        return false
                    }
                case 0x00..<0x20: return false  // control characters must be escaped
                default: continue
                }
            }
            return false
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count else { return false }
            for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { return false }
            index += count
            return true
        }

        /// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
        mutating func number() -> Bool {
            if current == UInt8(ascii: "-") { index += 1 }
            guard let first = current, first.isDigit else { return false }
            index += 1
            if first != UInt8(ascii: "0") { skipDigits() }
            if current == UInt8(ascii: ".") {
                index += 1
                guard current?.isDigit == true else { return false }
                skipDigits()
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                index += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
                guard current?.isDigit == true else { return false }
                skipDigits()
            }
            return true
        }

        mutating func skipDigits() {
            while current?.isDigit == true { index += 1 }
        }
    }
}

private extension UInt8 {
    var isJSONWhitespace: Bool { self == 0x20 || self == 0x0A || self == 0x0D || self == 0x09 }
    var isDigit: Bool { self >= 0x30 && self <= 0x39 }
    var isHexDigit: Bool { isDigit || (self >= 0x41 && self <= 0x46) || (self >= 0x61 && self <= 0x66) }
}
