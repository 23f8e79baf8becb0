import Foundation
import KokiBase

/// A value that can be a statement parameter, in PostgreSQL's text format.
public protocol PostgresEncodable: Sendable {
    /// The text the server parses for this value; nil is SQL NULL.
    var postgresText: String? { get }
}

/// A value that can be read from a result column in text format.
public protocol PostgresDecodable {
    /// Decodes a column; `text` is nil for SQL NULL.
    static func decode(postgresText text: String?) throws -> Self
}

/// A type whose non-NULL values parse from text; NULL is a decode error unless wrapped
/// in an Optional.
public protocol PostgresTextDecodable: PostgresDecodable {
    init?(nonNullPostgresText text: String)
}

extension PostgresTextDecodable {
    public static func decode(postgresText text: String?) throws -> Self {
        guard let text else {
            throw PostgresError(.decode, "unexpected NULL for \(Self.self)")
        }
        guard let value = Self(nonNullPostgresText: text) else {
            throw PostgresError(.decode, "column is not a valid \(Self.self)")
        }
        return value
    }
}

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    @inlinable public var postgresText: String? { self?.postgresText }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public static func decode(postgresText text: String?) throws -> Self {
        guard let text else { return nil }
        return try Wrapped.decode(postgresText: text)
    }
}

extension String: PostgresEncodable, PostgresTextDecodable {
    public var postgresText: String? { self }
    public init?(nonNullPostgresText text: String) { self = text }
}

extension Int: PostgresEncodable, PostgresTextDecodable {
    public var postgresText: String? { String(self) }
    public init?(nonNullPostgresText text: String) { self.init(text) }
}

extension Int64: PostgresEncodable, PostgresTextDecodable {
    public var postgresText: String? { String(self) }
    public init?(nonNullPostgresText text: String) { self.init(text) }
}

extension Int32: PostgresEncodable, PostgresTextDecodable {
    public var postgresText: String? { String(self) }
    public init?(nonNullPostgresText text: String) { self.init(text) }
}

extension Int16: PostgresEncodable, PostgresTextDecodable {
    public var postgresText: String? { String(self) }
    public init?(nonNullPostgresText text: String) { self.init(text) }
}

extension Bool: PostgresEncodable, PostgresTextDecodable {
    public var postgresText: String? { self ? "t" : "f" }
    public init?(nonNullPostgresText text: String) {
        switch text {
        case "t", "true": self = true
        case "f", "false": self = false
        default: return nil
        }
    }
}

/// `date` columns.
extension LocalDate: PostgresEncodable, PostgresTextDecodable {
    public var postgresText: String? { description }
    public init?(nonNullPostgresText text: String) { self.init(iso: text) }
}

/// `bytea` columns, in hex format.
extension Data: PostgresEncodable, PostgresTextDecodable {
    public var postgresText: String? { Array(self).postgresHex }
    public init?(nonNullPostgresText text: String) {
        guard let bytes = [UInt8](postgresHex: text) else { return nil }
        self.init(bytes)
    }
}

/// `timestamptz` columns. The connection runs in UTC, so the server prints `+00`.
extension Date: PostgresEncodable, PostgresTextDecodable {
    public var postgresText: String? {
        let micros = Int64((timeIntervalSince1970 * 1_000_000).rounded(.down))
        var days = micros / 86_400_000_000
        var rest = micros % 86_400_000_000
        if rest < 0 { rest += 86_400_000_000; days -= 1 }
        let date = LocalDate(daysSinceEpoch: Int(days))
        let seconds = rest / 1_000_000, fraction = rest % 1_000_000
        func pad(_ v: Int64, _ w: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        return "\(date) \(pad(seconds / 3600, 2)):\(pad(seconds / 60 % 60, 2)):\(pad(seconds % 60, 2)).\(pad(fraction, 6))+00"
    }

    public init?(nonNullPostgresText text: String) {
        // "YYYY-MM-DD HH:MM:SS[.ffffff][+HH[:MM]]"
        guard text.count >= 19, let day = LocalDate(iso: text.prefix(10)) else { return nil }
        let chars = Array(text.utf8)
        func num(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= chars.count else { return nil }
            var v = 0
            for c in chars[from..<from + count] {
                guard c >= 48, c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            return v
        }
        guard let h = num(11, 2), let m = num(14, 2), let s = num(17, 2) else { return nil }
        var index = 19
        var micros = 0
        if index < chars.count, chars[index] == UInt8(ascii: ".") {
            index += 1
            var digits = 0
            while index < chars.count, chars[index] >= 48, chars[index] <= 57 {
                if digits < 6 { micros = micros * 10 + Int(chars[index] - 48); digits += 1 }
                index += 1
            }
            while digits < 6 { micros *= 10; digits += 1 }
        }
        var offsetSeconds = 0
        if index < chars.count {
            let sign = chars[index] == UInt8(ascii: "-") ? -1 : 1
            guard let oh = num(index + 1, 2) else { return nil }
            let om = (index + 3 < chars.count && chars[index + 3] == UInt8(ascii: ":")) ? (num(index + 4, 2) ?? 0) : 0
            offsetSeconds = sign * (oh * 3600 + om * 60)
        }
        let seconds = day.daysSinceEpoch * 86_400 + h * 3600 + m * 60 + s - offsetSeconds
        self.init(timeIntervalSince1970: Double(seconds) + Double(micros) / 1_000_000)
    }
}

/// A `json`/`jsonb` value, passed as its text.
public struct PostgresJSON: PostgresEncodable, PostgresTextDecodable, Hashable {
    public let text: String

    public init(text: String) { self.text = text }

    public init<T: Encodable>(encoding value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        text = String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    public init?(nonNullPostgresText text: String) { self.text = text }

    public var postgresText: String? { text }

    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(text.utf8))
        } catch {
            throw PostgresError(.decode, "json column is not a valid \(T.self)")
        }
    }
}

/// Arrays (`int[]`, `text[]`, `date[]` …) in text format, for `unnest` batches. Inlinable, so
/// it is specialized for its element type where a statement is built: unspecialized, looking
/// up the element type per element was a fifth of the sample worker thread's time.
extension Array: PostgresEncodable where Element: PostgresEncodable {
    @inlinable
    public var postgresText: String? {
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        bytes.reserveCapacity(count * 16 + 2)
        for index in indices {
            if index > startIndex { bytes.append(UInt8(ascii: ",")) }
            guard let value = self[index].postgresText else {
                bytes.append(contentsOf: "NULL".utf8)
                continue
            }
            bytes.append(UInt8(ascii: "\""))
            for byte in value.utf8 {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { bytes.append(UInt8(ascii: "\\")) }
                bytes.append(byte)
            }
            bytes.append(UInt8(ascii: "\""))
        }
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension Array: PostgresDecodable where Element: PostgresDecodable {
    public static func decode(postgresText text: String?) throws -> [Element] {
        guard let text else { throw PostgresError(.decode, "unexpected NULL for an array") }
        return try PostgresArrayText.elements(text).map { try Element.decode(postgresText: $0) }
    }
}

enum PostgresArrayText {
    /// Splits a one-dimensional array literal into element texts (nil for NULL).
    static func elements(_ text: String) throws -> [String?] {
        var scalars = Array(text.unicodeScalars)
        guard scalars.first == "{", scalars.last == "}" else {
            throw PostgresError(.decode, "column is not a one-dimensional array")
        }
        scalars = Array(scalars.dropFirst().dropLast())
        var result: [String?] = []
        var index = 0
        while index < scalars.count {
            var value = String.UnicodeScalarView()
            if scalars[index] == "\"" {
                index += 1
                while index < scalars.count, scalars[index] != "\"" {
                    if scalars[index] == "\\" { index += 1 }
                    if index < scalars.count { value.append(scalars[index]) }
                    index += 1
                }
                index += 1  // closing quote
                result.append(String(value))
            } else {
                while index < scalars.count, scalars[index] != "," {
                    value.append(scalars[index])
                    index += 1
                }
                let item = String(value)
                result.append(item == "NULL" ? nil : item)
            }
            if index < scalars.count, scalars[index] == "," { index += 1 }
        }
        return result
    }
}

extension Array where Element == UInt8 {
    var postgresHex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0, count: count * 2 + 2)
        out[0] = UInt8(ascii: "\\")
        out[1] = UInt8(ascii: "x")
        for (i, byte) in enumerated() {
            out[2 + i * 2] = digits[Int(byte >> 4)]
            out[3 + i * 2] = digits[Int(byte & 0xF)]
        }
        return String(decoding: out, as: UTF8.self)
    }

    init?(postgresHex text: String) {
        let chars = Array(text.utf8)
        guard chars.count >= 2, chars[0] == UInt8(ascii: "\\"), chars[1] == UInt8(ascii: "x"),
              chars.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            case 65...70: return c - 55
            default: return nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity((chars.count - 2) / 2)
        var i = 2
        while i < chars.count {
            guard let hi = nibble(chars[i]), let lo = nibble(chars[i + 1]) else { return nil }
            bytes.append(hi << 4 | lo)
            i += 2
        }
        self = bytes
    }
}
