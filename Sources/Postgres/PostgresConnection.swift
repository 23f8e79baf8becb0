internal import CLibpq
import Foundation
import KokiBase

/// One libpq connection. A `PGconn` is not thread-safe, so every call runs on this
/// connection's own serial thread: async callers go through `run`, code that already
/// owns a thread through `sync`. The synchronous methods (`query`, `execute`,
/// `transaction`, `copyIn` …) may only be called inside those closures.
///
/// `@unchecked Sendable`: the `PGconn` is touched only on `queue` (checked by
/// `dispatchPrecondition` in each synchronous method).
public final class PostgresConnection: @unchecked Sendable {
    private let conn: OpaquePointer
    private let queue: BlockingQueue
    private var transactionDepth = 0
    /// Statements this session has prepared, by their text (see `withResult`).
    private var prepared: [String: String] = [:]
    /// At most this many statements are kept prepared per session; texts past it run unprepared.
    static let preparedLimit = 256

    /// Connects with a URI (`postgresql://…`) or a `key=value` string; an empty string
    /// uses libpq's `PG*` environment variables. TLS settings (`sslmode`, `sslrootcert`)
    /// pass through. Blocks: call it from a thread of your own, or use `connect`.
    public init(connecting conninfo: String, label: String = "koki.postgres") throws {
        guard let conn = PQconnectdb(conninfo) else {
            throw PostgresError(.connection, "libpq could not allocate a connection", connectionLost: true)
        }
        if PQstatus(conn) != CONNECTION_OK {
            let message = String(cString: PQerrorMessage(conn)).trimmingCharacters(in: .whitespacesAndNewlines)
            PQfinish(conn)  // the failed connection is still ours to free
            throw PostgresError(.connection, "could not connect", connectionLost: true, serverMessage: message)
        }
        // Server notices ("relation exists, skipping") are not errors; libpq would print
        // them to stderr, where they could quote values. Drop them.
        PQsetNoticeProcessor(conn, ignoreNotice, nil)
        self.conn = conn
        self.queue = BlockingQueue(label: label)
        try queue.sync {
            _ = PQsetClientEncoding(conn, "UTF8")
            try executeScript(unsafeSQL: Self.sessionSettings)
        }
    }

    /// UTC, and a plan per execution for prepared statements (see `withResult`): a generic
    /// plan made while a table was small (a new city's first load) stays until the next
    /// ANALYZE, and one such plan took the latency bench from 0.1 s to 2 s.
    ///
    /// `random_page_cost` as for data in memory (koki's working set is a city's registers, a
    /// few GB at most): at the default 4, made for spinning disks, the planner hashed the whole
    /// `residents` table of a mid-size city (20–60k rows) to update the 500 a batch touches —
    /// 17 ms against 5 ms by key, measured on every batch of the resident worker.
    ///
    /// No JIT: koki's statements run for milliseconds, but a batch's plan over key-by-key
    /// lookups is estimated far above `jit_above_cost`, and compiling it took most of the
    /// statement — 1.8 of 2.1 s of the payment worker's receivables reads in a run.
    static let sessionSettings =
        "SET TIME ZONE 'UTC'; SET plan_cache_mode = \(planCacheMode); SET random_page_cost = 1.1; SET jit = off"
    static let planCacheMode = "force_custom_plan"

    /// Connects on a thread of its own, off the cooperative pool.
    public static func connect(_ conninfo: String, label: String = "koki.postgres") async throws -> PostgresConnection {
        try await BlockingQueue(label: "koki.postgres.connect").run {
            try PostgresConnection(connecting: conninfo, label: label)
        }
    }

    deinit {
        PQfinish(conn)
    }

    /// Runs `body` with this connection on its own thread.
    @discardableResult
    public func run<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await queue.run { try body(self) }
    }

    /// Runs `body` on the connection's thread from a thread that may block.
    @discardableResult
    public func sync<T>(_ body: (PostgresConnection) throws -> T) rethrows -> T {
        try queue.sync { try body(self) }
    }

    // MARK: - Statements

    /// Runs a statement and returns its rows.
    @discardableResult
    public func query(_ sql: SQL) throws -> [PostgresRow] {
        try withResult(sql) { result in Self.rows(of: result) }
    }

    /// Runs a statement and returns the number of rows it affected.
    @discardableResult
    public func execute(_ sql: SQL) throws -> Int {
        try withResult(sql) { result in Int(String(cString: PQcmdTuples(result))) ?? 0 }
    }

    /// Runs several statements of trusted text (migrations, schema) with the simple
    /// query protocol. Never pass text built from input.
    public func executeScript(unsafeSQL script: String) throws {
        queue.precondition()
        let result = PQexec(conn, script)
        defer { PQclear(result) }
        try check(result, context: "script")
    }

    /// Hands the raw connection to code in this module, on the connection's thread.
    func withNativeConnection<T>(_ body: (OpaquePointer) throws -> T) rethrows -> T {
        queue.precondition()
        return try body(conn)
    }

    /// Whether the server connection is still usable.
    public var isConnected: Bool {
        queue.precondition()
        return PQstatus(conn) == CONNECTION_OK
    }

    /// Re-establishes a lost connection with the same parameters (blocks).
    public func reset() throws {
        queue.precondition()
        PQreset(conn)
        transactionDepth = 0
        prepared = [:]  // they lived in the session that ended
        guard PQstatus(conn) == CONNECTION_OK else {
            throw PostgresError(.connection, "reconnect failed", connectionLost: true,
                                serverMessage: String(cString: PQerrorMessage(conn)))
        }
        _ = PQsetClientEncoding(conn, "UTF8")
        try executeScript(unsafeSQL: Self.sessionSettings)
    }

    /// The server's process id for this session (to terminate it in tests).
    public var backendPID: Int32 {
        queue.precondition()
        return PQbackendPID(conn)
    }

    /// Runs `body` with the statements PostgreSQL runs on its own behalf for each row — a
    /// foreign key's check, a PL/pgSQL function's queries — planned once and kept, as by
    /// default, rather than per execution as koki's session asks for its own statements
    /// (`sessionSettings`): planning the check of each ledger row's receivable took three
    /// times as long as the check. Only within a transaction (the setting ends with it).
    public func withCachedPlans<T>(_ body: () throws -> T) throws -> T {
        try executeScript(unsafeSQL: "SET LOCAL plan_cache_mode = auto")
        let value = try body()
        try executeScript(unsafeSQL: "SET LOCAL plan_cache_mode = \(Self.planCacheMode)")
        return value
    }

    // MARK: - Transactions

    /// Runs `body` in a transaction: committed if it returns, rolled back if it throws
    /// (the error is rethrown). Nested calls become savepoints.
    @discardableResult
    public func transaction<T>(isolation: IsolationLevel = .readCommitted,
                               _ body: (PostgresConnection) throws -> T) throws -> T {
        queue.precondition()
        if transactionDepth > 0 {
            return try savepoint(body)
        }
        try execute(SQL(unsafeSQL: "BEGIN ISOLATION LEVEL \(isolation.rawValue)"))
        transactionDepth = 1
        defer { transactionDepth = 0 }
        let value: T
        do {
            value = try body(self)
        } catch {
            rollbackQuietly("ROLLBACK")
            throw error
        }
        try execute("COMMIT")
        return value
    }

    /// Runs `body` under a savepoint inside the current transaction: on a throw only its
    /// own changes are undone and the transaction goes on.
    @discardableResult
    public func savepoint<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        queue.precondition()
        guard transactionDepth > 0 else {
            throw PostgresError(.usage, "savepoint outside a transaction")
        }
        let name = "koki_sp_\(transactionDepth)"
        try execute(SQL(unsafeSQL: "SAVEPOINT \(name)"))
        transactionDepth += 1
        defer { transactionDepth -= 1 }
        do {
            let value = try body(self)
            try execute(SQL(unsafeSQL: "RELEASE SAVEPOINT \(name)"))
            return value
        } catch {
            rollbackQuietly("ROLLBACK TO SAVEPOINT \(name)")
            throw error
        }
    }

    public enum IsolationLevel: String, Sendable {
        case readCommitted = "READ COMMITTED"
        case repeatableRead = "REPEATABLE READ"
        case serializable = "SERIALIZABLE"
    }

    /// A failed rollback on a lost connection is expected: the server discards the
    /// transaction anyway. The original error is what the caller needs.
    private func rollbackQuietly(_ statement: String) {
        guard PQstatus(conn) == CONNECTION_OK else { return }
        let result = PQexec(conn, statement)
        PQclear(result)
    }

    // MARK: - Results

    /// Runs a statement. A data statement (SELECT, INSERT, UPDATE, DELETE, WITH) is prepared
    /// once per session and then executed by name: the workers run the same few statements
    /// thousands of times, and parsing them was an eighth of the server's time under
    /// `koki-dev bench latency`. The session plans each execution with its own values
    /// (`plan_cache_mode`): only parsing is saved, never a stale plan kept. A prepared
    /// statement whose result columns come from `SELECT *` would fail once a migration adds a
    /// column to its table under a running worker: koki's statements name their columns.
    private func withResult<T>(_ sql: SQL, _ body: (OpaquePointer) throws -> T) throws -> T {
        queue.precondition()
        let name = try preparedName(for: sql)
        let result = try Self.withCStrings(sql.parameters) { values in
            if let name {
                PQexecPrepared(conn, name, Int32(values.count), values, nil, nil, 0)
            } else {
                PQexecParams(conn, sql.text, Int32(values.count), nil, values, nil, nil, 0)
            }
        }
        defer { PQclear(result) }
        try check(result, context: "query")
        return try body(result!)
    }

    /// The session's name for this statement, preparing it on first use; nil for statements
    /// that gain nothing from it (transaction control, DDL) and past `preparedLimit`.
    private func preparedName(for sql: SQL) throws -> String? {
        if let name = prepared[sql.text] { return name }
        guard prepared.count < Self.preparedLimit, Self.isDataStatement(sql.text) else { return nil }
        let name = "koki_\(prepared.count)"
        let result = PQprepare(conn, name, sql.text, Int32(sql.parameters.count), nil)
        defer { PQclear(result) }
        try check(result, context: "query")
        prepared[sql.text] = name
        return name
    }

    static func isDataStatement(_ text: String) -> Bool {
        let head = text.utf8.drop(while: { $0 == 0x20 || $0 == 0x0A || $0 == 0x09 || $0 == 0x0D }).prefix(6)
        let word = String(decoding: head, as: UTF8.self).uppercased()
        return ["SELECT", "INSERT", "UPDATE", "DELETE"].contains(word) || word.hasPrefix("WITH")
    }

    func check(_ result: OpaquePointer?, context: String, expecting ok: Set<UInt32> = [PGRES_COMMAND_OK.rawValue, PGRES_TUPLES_OK.rawValue]) throws {
        guard let result else {
            throw PostgresError(.query, context, connectionLost: PQstatus(conn) != CONNECTION_OK,
                                serverMessage: String(cString: PQerrorMessage(conn)))
        }
        let status = PQresultStatus(result)
        if ok.contains(status.rawValue) { return }
        throw error(from: result, context: context)
    }

    func error(from result: OpaquePointer, context: String, kind: PostgresError.Kind = .query) -> PostgresError {
        func field(_ code: Int32) -> String? {
            guard let value = PQresultErrorField(result, code) else { return nil }
            return String(cString: value)
        }
        // PG_DIAG_* are character codes: 'C' SQLSTATE, 'M' primary message, 'n' constraint,
        // 't' table, 'c' column.
        return PostgresError(kind, context,
                             sqlState: field(Int32(UInt8(ascii: "C"))),
                             constraint: field(Int32(UInt8(ascii: "n"))),
                             table: field(Int32(UInt8(ascii: "t"))),
                             column: field(Int32(UInt8(ascii: "c"))),
                             connectionLost: PQstatus(conn) != CONNECTION_OK,
                             serverMessage: field(Int32(UInt8(ascii: "M"))))
    }

    static func rows(of result: OpaquePointer) -> [PostgresRow] {
        let rowCount = Int(PQntuples(result)), columnCount = Int(PQnfields(result))
        let names = ColumnNames((0..<columnCount).map { String(cString: PQfname(result, Int32($0))) })
        var rows: [PostgresRow] = []
        rows.reserveCapacity(rowCount)
        for r in 0..<rowCount {
            var values: [String?] = []
            values.reserveCapacity(columnCount)
            for c in 0..<columnCount {
                if PQgetisnull(result, Int32(r), Int32(c)) != 0 {
                    values.append(nil)
                } else {
                    let length = Int(PQgetlength(result, Int32(r), Int32(c)))
                    let pointer = UnsafeRawPointer(PQgetvalue(result, Int32(r), Int32(c))!)
                    values.append(String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self))
                }
            }
            rows.append(PostgresRow(columns: names, values: values))
        }
        return rows
    }

    /// C strings for the length of a call; the pointers never leave `body`. A text parameter
    /// with an embedded NUL is refused: as a C string it would reach the server cut short
    /// (`"a\0b"` stored as `"a"`), and PostgreSQL's text cannot hold NUL at all.
    static func withCStrings<T>(_ strings: [String?], _ body: ([UnsafePointer<CChar>?]) -> T) throws -> T {
        let storage: [UnsafeMutablePointer<CChar>?] = strings.map { $0.map { strdup($0) } }
        defer { storage.forEach { free($0) } }
        for (string, pointer) in zip(strings, storage) {
            guard let string, let pointer else { continue }
            guard strlen(pointer) == string.utf8.count else {
                throw PostgresError(.usage, "a text parameter contains a NUL byte, which PostgreSQL text cannot hold")
            }
        }
        return body(storage.map { UnsafePointer($0) })
    }

    // MARK: - COPY

    /// Bulk-loads rows with `COPY table (columns) FROM STDIN` in text format; returns the
    /// number of rows the server loaded. Table and column names are quoted identifiers.
    @discardableResult
    public func copyIn<S: Sequence>(table: String, columns: [String], rows: S) throws -> Int
    where S.Element == [any PostgresEncodable] {
        queue.precondition()
        let columnList = columns.map(SQL.quoteIdentifier).joined(separator: ", ")
        let start = PQexec(conn, "COPY \(SQL.quoteIdentifier(table)) (\(columnList)) FROM STDIN")
        defer { PQclear(start) }
        try check(start, context: "copy into \(table)", expecting: [PGRES_COPY_IN.rawValue])
        var buffer = [UInt8]()
        buffer.reserveCapacity(1 << 16)
        var failed: PostgresError? = nil
        for row in rows {
            if row.count != columns.count {
                failed = PostgresError(.copy, "a row for \(table) has \(row.count) values for \(columns.count) columns")
                break
            }
            CopyText.append(row, to: &buffer)
            if buffer.count >= 1 << 16 {
                if let error = sendCopyData(&buffer, table: table) { failed = error; break }
            }
        }
        if failed == nil, let error = sendCopyData(&buffer, table: table) { failed = error }
        // Ending the copy with an error message makes the server abort it.
        _ = PQputCopyEnd(conn, failed == nil ? nil : "aborted by client")
        var loaded = 0
        while let result = PQgetResult(conn) {
            defer { PQclear(result) }
            if PQresultStatus(result) == PGRES_COMMAND_OK {
                loaded = Int(String(cString: PQcmdTuples(result))) ?? 0
            } else if failed == nil {
                failed = error(from: result, context: "copy into \(table)", kind: .copy)
            }
        }
        if let failed { throw failed }
        return loaded
    }

    private func sendCopyData(_ buffer: inout [UInt8], table: String) -> PostgresError? {
        guard !buffer.isEmpty else { return nil }
        let status = buffer.withUnsafeBufferPointer { raw in
            raw.withMemoryRebound(to: CChar.self) { PQputCopyData(conn, $0.baseAddress, Int32($0.count)) }
        }
        buffer.removeAll(keepingCapacity: true)
        return status == 1 ? nil
            : PostgresError(.copy, "sending rows for \(table)", connectionLost: PQstatus(conn) != CONNECTION_OK)
    }
}

/// COPY's text format: tab-separated, `\N` for NULL, backslash escapes.
enum CopyText {
    static func append(_ row: [any PostgresEncodable], to buffer: inout [UInt8]) {
        for (i, value) in row.enumerated() {
            if i > 0 { buffer.append(UInt8(ascii: "\t")) }
            guard let text = value.postgresText else {
                buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "N")])
                continue
            }
            for byte in text.utf8 {
                switch byte {
                case UInt8(ascii: "\\"): buffer.append(contentsOf: [92, 92])
                case UInt8(ascii: "\t"): buffer.append(contentsOf: [92, UInt8(ascii: "t")])
                case UInt8(ascii: "\n"): buffer.append(contentsOf: [92, UInt8(ascii: "n")])
                case UInt8(ascii: "\r"): buffer.append(contentsOf: [92, UInt8(ascii: "r")])
                default: buffer.append(byte)
                }
            }
        }
        buffer.append(UInt8(ascii: "\n"))
    }
}

private let ignoreNotice: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?) -> Void = { _, _ in }
