import Postgres

/// Rows looked up key by key, for a batch's keys on a column that is not unique (a person's
/// history, notices and periods, a household's members).
///
/// `column = ANY(500 keys)` is planned from statistics, and a table has none until autovacuum's
/// first ANALYZE — a city's whole first load, as far as a benchmark can tell: the planner then
/// takes each key for 0.5% of the table, the keys for all of it, and scans it. Unnesting the
/// keys and looking each one up (`LATERAL … OFFSET 0`: the OFFSET keeps the planner from
/// flattening it back into that join) uses the index whatever the statistics say. Measured
/// under `koki-dev bench resident`, a household's members took 47 µs per event the first way and a
/// tenth of it this way.
enum KeyedLookup {
    /// A `FROM` item: every row of `table` whose `column` is one of `keys`, as `alias` (its
    /// columns, or only `selecting`). Each row once, as `= ANY` gives it, however often its key
    /// is repeated.
    static func rows(of table: String, where column: String, in keys: [String], as alias: String,
                     selecting: SQL = "*") -> SQL {
        var seen = Set<String>()
        let keys = keys.filter { seen.insert($0).inserted }
        return """
        unnest(\(keys)::text[]) AS keys(key)
        CROSS JOIN LATERAL (SELECT \(selecting) FROM \(identifier: table) WHERE \(identifier: column) = keys.key OFFSET 0) AS \(identifier: alias)
        """
    }

    /// Deletes every row of `table` whose `column` is one of `keys` (found as `rows` finds them,
    /// deleted by their row ids).
    static func delete(from table: String, where column: String, in keys: [String], on tx: PostgresConnection) throws {
        guard !keys.isEmpty else { return }
        try tx.execute("""
            DELETE FROM \(identifier: table) WHERE ctid = ANY(ARRAY(
                SELECT found.ctid FROM \(rows(of: table, where: column, in: keys, as: "found", selecting: "ctid"))))
            """)
    }
}
