/// One result row, copied out of libpq's memory (text format).
public struct PostgresRow: Sendable {
    let columns: ColumnNames
    let values: [String?]

    public var count: Int { values.count }

    /// Decodes column `index` (0-based).
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, at index: Int) throws -> T {
        guard values.indices.contains(index) else {
            throw PostgresError(.decode, "no column \(index) (row has \(values.count))")
        }
        do {
            return try T.decode(postgresText: values[index])
        } catch let error as PostgresError {
            throw PostgresError(.decode, "\(error.context) in column \(columns.names[index])")
        }
    }

    /// Decodes the column with this name.
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, column name: String) throws -> T {
        guard let index = columns.index[name] else { throw PostgresError(.decode, "no column \(name)") }
        return try decode(type, at: index)
    }

    /// Decodes the first columns as a tuple: `let (id, day) = try row.decode(Int.self, LocalDate.self)`.
    public func decode<each T: PostgresDecodable>(_ types: repeat (each T).Type) throws -> (repeat each T) {
        var index = 0
        func next<U: PostgresDecodable>(_ type: U.Type) throws -> U {
            defer { index += 1 }
            return try decode(type, at: index)
        }
        return (repeat try next(each types))
    }

    /// Whether the column is SQL NULL.
    public func isNull(at index: Int) -> Bool { values[index] == nil }
}

/// Column names shared by every row of one result.
final class ColumnNames: Sendable {
    let names: [String]
    let index: [String: Int]

    init(_ names: [String]) {
        self.names = names
        self.index = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    }
}
