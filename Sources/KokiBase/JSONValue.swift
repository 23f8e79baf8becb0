import Foundation

/// Any JSON value, as plain Swift data: what the relay projects and compares. Parsed by
/// `JSONSyntax`'s reader and written with `JSONEncoder`, which on Linux cost a fraction of
/// `JSONSerialization`'s `[String: Any]` (whose bridging to NSDictionary took three quarters
/// of the relay's time under `koki-dev bench latency`).
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
        guard let value = JSONSyntax.parse(bytes) else { throw NotJSON() }
        return value
    }

    /// As `parse`, and nil as well for an object that repeats a name: RFC 8259 leaves what
    /// that means to each reader, and a reader that must agree with another one (see
    /// `ResidentChange.init(plainJSON:)`) cannot know which occurrence that one takes.
    public static func parseUnambiguous(_ bytes: [UInt8]) -> JSONValue? {
        JSONSyntax.read(bytes, building: true, uniqueNames: true)
    }

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

extension JSONValue: Encodable {
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

/// A strict RFC 8259 reader, in one pass: `isValid` checks without building values (what an
/// inbound body must pass), `parse` builds them (what the relay projects, and the outbox's
/// headers). Foundation's `JSONDecoder` accepts a trailing comma (`[1,]`), and a body upstream
/// sent must be JSON exactly as the contract says; it also cost the relay a third of its time
/// reading headers back.
public enum JSONSyntax {
    /// Nesting deeper than this is refused (a deeply nested body is an attack, not a record).
    public static let maxDepth = 512

    /// Whether a text that `isValid` is an object (it starts with `{`).
    public static func isObject(_ bytes: [UInt8]) -> Bool {
        bytes.first(where: { !$0.isJSONWhitespace }) == UInt8(ascii: "{")
    }

    /// The syntax only: that the bytes are UTF-8 is the caller's check (an inbound body's is
    /// made first, with its own reason); `parse` checks both.
    public static func isValid(_ bytes: [UInt8]) -> Bool {
        read(bytes, building: false) != nil
    }

    /// The value, or nil when the text is not strictly JSON (or a string is not Unicode).
    static func parse(_ bytes: [UInt8]) -> JSONValue? {
        read(bytes, building: true)
    }

    /// An array of `[name, value]` pairs of strings, the value possibly null — how the outbox
    /// keeps Kafka headers — read straight into names and value bytes (building `JSONValue`s
    /// first was a quarter of the relay thread); nil when the text is not exactly that.
    public static func stringPairs(_ bytes: [UInt8]) -> [(name: String, value: [UInt8]?)]? {
        bytes.withUnsafeBufferPointer { buffer in
            var reader = Reader(bytes: buffer, building: true)
            var pairs: [(name: String, value: [UInt8]?)] = []
            reader.skipWhitespace()
            guard reader.current == UInt8(ascii: "[") else { return nil }
            let closed = reader.elements(depth: 0, close: UInt8(ascii: "]")) { reader in
                reader.skipWhitespace()
                guard reader.current == UInt8(ascii: "[") else { return false }
                var name: String?
                var value: [UInt8]??
                let closed = reader.elements(depth: 1, close: UInt8(ascii: "]")) { reader in
                    reader.skipWhitespace()
                    if name == nil {
                        guard reader.current == UInt8(ascii: "\""), let text = reader.string() else { return false }
                        name = text
                    } else if value == nil {
                        if reader.current == UInt8(ascii: "n") {
                            guard reader.literal("null") else { return false }
                            value = .some(nil)
                        } else {
                            guard reader.current == UInt8(ascii: "\""), let bytes = reader.stringBytes() else { return false }
                            value = bytes
                        }
                    } else {
                        return false
                    }
                    return true
                }
                guard closed, let name, let value else { return false }
                pairs.append((name, value))
                return true
            }
            guard closed else { return nil }
            reader.skipWhitespace()
            return reader.index == buffer.count ? pairs : nil
        }
    }

    fileprivate static func read(_ bytes: [UInt8], building: Bool, uniqueNames: Bool = false) -> JSONValue? {
        bytes.withUnsafeBufferPointer { buffer in
            var reader = Reader(bytes: buffer, building: building, uniqueNames: uniqueNames)
            guard let value = reader.value(depth: 0) else { return nil }
            reader.skipWhitespace()
            return reader.index == buffer.count ? value : nil
        }
    }

    /// Returns nil for a syntax error; when not `building`, `.null` stands for any valid value.
    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        let building: Bool
        /// Whether an object that repeats a name is refused (otherwise the last one counts).
        var uniqueNames = false
        var index = 0

        var current: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipWhitespace() {
            while current?.isJSONWhitespace == true { index += 1 }
        }

        mutating func value(depth: Int) -> JSONValue? {
            skipWhitespace()
            guard let byte = current else { return nil }
            switch byte {
            case UInt8(ascii: "{"): return object(depth: depth)
            case UInt8(ascii: "["): return array(depth: depth)
            case UInt8(ascii: "\""): return string().map { building ? .string($0) : .null }
            case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
            case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
            case UInt8(ascii: "n"): return literal("null") ? .null : nil
            default: return number()
            }
        }

        mutating func object(depth: Int) -> JSONValue? {
            var members: [String: JSONValue] = [:]
            let closed = elements(depth: depth, close: UInt8(ascii: "}")) { reader in
                reader.skipWhitespace()
                guard reader.current == UInt8(ascii: "\""), let key = reader.string() else { return false }
                reader.skipWhitespace()
                guard reader.current == UInt8(ascii: ":") else { return false }
                reader.index += 1
                guard let value = reader.value(depth: depth + 1) else { return false }
                if reader.building, members.updateValue(value, forKey: key) != nil, reader.uniqueNames { return false }
                return true
            }
            return closed ? .object(members) : nil
        }

        mutating func array(depth: Int) -> JSONValue? {
            var items: [JSONValue] = []
            let closed = elements(depth: depth, close: UInt8(ascii: "]")) { reader in
                guard let value = reader.value(depth: depth + 1) else { return false }
                if reader.building { items.append(value) }
                return true
            }
            return closed ? .array(items) : nil
        }

        /// `element` separated by commas up to `close`; false for a syntax error.
        mutating func elements(depth: Int, close: UInt8, _ element: (inout Reader) -> Bool) -> Bool {
            guard depth < JSONSyntax.maxDepth else { return false }
            index += 1
            skipWhitespace()
            if current == close { index += 1; return true }
            while true {
                guard element(&self) else { return false }
                skipWhitespace()
                guard let byte = current else { return false }
                index += 1
                if byte == close { return true }
                guard byte == UInt8(ascii: ",") else { return false }
            }
        }

        /// The string's text (empty when not `building`), or nil for a syntax error, a lone
        /// surrogate or bytes that are not UTF-8.
        mutating func string() -> String? {
            guard let (raw, escaped) = rawString() else { return nil }
            guard building else { return "" }
            return escaped ? Self.unescape(raw).flatMap { String(validating: $0, as: UTF8.self) }
                : String(validating: raw, as: UTF8.self)
        }

        /// The string's bytes, unescaped (not checked to be UTF-8).
        mutating func stringBytes() -> [UInt8]? {
            guard let (raw, escaped) = rawString() else { return nil }
            return escaped ? Self.unescape(raw) : Array(raw)
        }

        /// The bytes between a string's quotes, and whether they hold escapes; nil for a syntax
        /// error.
        mutating func rawString() -> (UnsafeBufferPointer<UInt8>, escaped: Bool)? {
            index += 1  // the opening quote
            let start = index
            var escaped = false
            while let byte = current {
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return (UnsafeBufferPointer(rebasing: bytes[start..<index - 1]), escaped)
                case UInt8(ascii: "\\"):
                    guard let next = current else { return nil }
                    index += 1
                    escaped = true
                    if next == UInt8(ascii: "u") {
                        for _ in 0..<4 {
                            guard let hex = current, hex.isHexDigit else { return nil }
                            index += 1
                        }
                    } else if !"\"\\/bfnrt".utf8.contains(next) {
                        return nil
                    }
                case 0x00..<0x20: return nil  // control characters must be escaped
                default: continue
                }
            }
            return nil
        }

        /// A string's raw bytes (between its quotes, escapes already checked) unescaped; nil for a
        /// lone surrogate.
        static func unescape(_ raw: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
            var out: [UInt8] = []
            out.reserveCapacity(raw.count)
            var i = 0
            func hex4(_ at: Int) -> UInt32 {
                raw[at..<at + 4].reduce(0) { $0 << 4 | UInt32($1.hexValue) }
            }
            while i < raw.count {
                let byte = raw[i]
                guard byte == UInt8(ascii: "\\") else { out.append(byte); i += 1; continue }
                let kind = raw[i + 1]
                i += 2
                switch kind {
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = hex4(i)
                    i += 4
                    if (0xD800..<0xDC00).contains(scalar) {
                        // A high surrogate must be followed by an escaped low one.
                        guard i + 6 <= raw.count, raw[i] == UInt8(ascii: "\\"), raw[i + 1] == UInt8(ascii: "u") else { return nil }
                        let low = hex4(i + 2)
                        guard (0xDC00..<0xE000).contains(low) else { return nil }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        i += 6
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { return nil }
                    out += unicode.utf8
                default: out.append(kind)  // " \ /
                }
            }
            return out
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count else { return false }
            for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { return false }
            index += count
            return true
        }

        /// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? — an integer when it has neither
        /// fraction nor exponent and fits in Int64.
        mutating func number() -> JSONValue? {
            let start = index
            if current == UInt8(ascii: "-") { index += 1 }
            guard let first = current, first.isDigit else { return nil }
            index += 1
            if first != UInt8(ascii: "0") { skipDigits() }
            var integral = true
            if current == UInt8(ascii: ".") {
                index += 1
                guard current?.isDigit == true else { return nil }
                skipDigits()
                integral = false
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                index += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
                guard current?.isDigit == true else { return nil }
                skipDigits()
                integral = false
            }
            guard building else { return .null }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            if integral, let integer = Int64(text) { return .integer(integer) }
            return Double(text).map { .number($0) }
        }

        mutating func skipDigits() {
            while current?.isDigit == true { index += 1 }
        }
    }
}

extension UInt8 {
    /// An ASCII hex digit, either case.
    public var isHexDigit: Bool { isDigit || (self >= 0x41 && self <= 0x46) || (self >= 0x61 && self <= 0x66) }
}

private extension UInt8 {
    var isJSONWhitespace: Bool { self == 0x20 || self == 0x0A || self == 0x0D || self == 0x09 }
    var isDigit: Bool { self >= 0x30 && self <= 0x39 }
    var hexValue: UInt8 { isDigit ? self - 0x30 : (self | 0x20) - 0x61 + 10 }
}
