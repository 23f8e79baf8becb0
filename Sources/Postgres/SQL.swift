import Foundation

/// A statement whose interpolated values become `$n` parameters — never text spliced
/// into the SQL. `SQL(unsafeSQL:)` is the one way to use raw text, and says so.
///
///     let rows = try conn.query("SELECT name FROM t WHERE id = \(id) AND day >= \(since)")
public struct SQL: Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    public private(set) var text: String
    /// Parameters in text format; nil is SQL NULL.
    public private(set) var parameters: [String?]

    public init(unsafeSQL text: String) {
        self.text = text
        self.parameters = []
    }

    public init(stringLiteral value: String) {
        self.init(unsafeSQL: value)
    }

    public init(stringInterpolation: Interpolation) {
        self.text = stringInterpolation.text
        self.parameters = stringInterpolation.parameters
    }

    public struct Interpolation: StringInterpolationProtocol {
        @usableFromInline var text = ""
        @usableFromInline var parameters: [String?] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            text.reserveCapacity(literalCapacity + interpolationCount * 3)
            parameters.reserveCapacity(interpolationCount)
        }

        public mutating func appendLiteral(_ literal: String) {
            text += literal
        }

        @inlinable
        public mutating func appendInterpolation<T: PostgresEncodable>(_ value: T) {
            parameters.append(value.postgresText)
            text += "$\(parameters.count)"
        }

        /// Splices another statement, renumbering its parameters.
        public mutating func appendInterpolation(_ fragment: SQL) {
            var renumbered = fragment.text
            for index in stride(from: fragment.parameters.count, through: 1, by: -1) {
                renumbered = renumbered.replacingPlaceholder(index, with: parameters.count + index)
            }
            text += renumbered
            parameters += fragment.parameters
        }

        /// A quoted identifier (a table or column name chosen by code, not by input).
        public mutating func appendInterpolation(identifier: String) {
            text += SQL.quoteIdentifier(identifier)
        }
    }

    public static func quoteIdentifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// The statement text only; parameter values are never part of a description.
    public var description: String { text }
}

extension String {
    /// Replaces `$index` (not `$index0`…) with `$replacement`.
    func replacingPlaceholder(_ index: Int, with replacement: Int) -> String {
        var result = ""
        var rest = Substring(self)
        let token = "$\(index)"
        while let range = rest.range(of: token) {
            let after = rest[range.upperBound...].first
            result += rest[..<range.lowerBound]
            if let after, after.isNumber {
                result += token
            } else {
                result += "$\(replacement)"
            }
            rest = rest[range.upperBound...]
        }
        return result + rest
    }

}
