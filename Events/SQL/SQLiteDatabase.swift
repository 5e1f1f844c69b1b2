import Foundation
import GRDB
import GRDBSQLite

/// A credlog SQLite database (GRDB's pool: one writer, concurrent readers on WAL snapshots)
/// as an ``SQLDatabase``.
public struct SQLiteDatabase: SQLDatabase {
    public let pool: DatabasePool
    public var dialect: SQLDialect { .sqlite }

    public init(_ pool: DatabasePool) { self.pool = pool }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        try await SQLiteErrors.mapping { try await pool.read { db in try body(SQLiteSession(db)) } }
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        try await SQLiteErrors.mapping { try await pool.write { db in try body(SQLiteSession(db)) } }
    }

    /// `secure_delete` has already overwritten the deleted rows in the database; what may remain
    /// are older copies of their pages in the WAL, which a checkpoint that truncates it removes.
    /// That checkpoint must wait for readers of older snapshots, holding the writer meanwhile:
    /// it waits at most ``checkpointWait`` and otherwise leaves the WAL to be reset by the next
    /// checkpoint that finds no reader (writers are never stalled behind a slow reader).
    public func reclaimDeletedRows(of table: String) async throws {
        try await pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA busy_timeout = \(Self.checkpointWait)")
            defer { try? db.execute(sql: "PRAGMA busy_timeout = \(Self.busyTimeout)") }
            _ = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        }
    }

    /// Milliseconds the truncating checkpoint waits for readers.
    static let checkpointWait = 200
    /// Milliseconds a statement waits for the database's lock otherwise (``CredlogDatabase``'s busy mode).
    static let busyTimeout = 30_000
}

/// A GRDB connection as an ``SQLSession``. Statements with arguments are prepared once per
/// connection and reused.
public struct SQLiteSession: SQLSession {
    public let db: Database
    public var dialect: SQLDialect { .sqlite }

    public init(_ db: Database) { self.db = db }

    public func execute(sql: String, arguments: SQLArguments) throws {
        let statement = try prepared(sql, arguments)
        defer { sqlite3_clear_bindings(statement.sqliteStatement) }
        try statement.execute()
    }

    public func changes(sql: String, arguments: SQLArguments) throws -> Int {
        try execute(sql: sql, arguments: arguments)
        return db.changesCount
    }

    public func fetchAll(sql: String, arguments: SQLArguments) throws -> [SQLRow] {
        let statement = try prepared(sql, arguments)
        let sqlite = statement.sqliteStatement
        defer {
            sqlite3_reset(sqlite)
            sqlite3_clear_bindings(sqlite)
        }
        let columns = SQLColumns(statement.columnNames)
        let count = Int32(columns.names.count)
        var rows: [SQLRow] = []
        // Stepped here rather than through a GRDB cursor (a tenth of a command's reads went to
        // setting one up); a read changes nothing GRDB keeps track of.
        while true {
            switch sqlite3_step(sqlite) {
            case SQLITE_ROW: rows.append(SQLRow(columns: columns, values: (0..<count).map { sqlValue(sqlite, column: $0) }))
            case SQLITE_DONE: return rows
            case let code: throw failure(code, sql: sql)
            }
        }
    }

    /// One prepared single-row `INSERT`, bound and stepped for each row through SQLite's C API:
    /// on SQLite a statement is a library call, so many rows per statement would only add the
    /// text of a long statement to hash for the cache and its arguments to copy once more. Stepped
    /// without GRDB, as reads are: inside a transaction, an insert changes nothing of the
    /// connection's state that GRDB keeps (its hooks on SQLite still see every row).
    public func insert(into table: String, columns: [String], rows: [[SQLValue]]) throws {
        guard !rows.isEmpty else { return }
        let sql = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES (\(SQLArguments.placeholders(columns.count)))"
        let sqlite = try db.cachedStatement(sql: sql).sqliteStatement
        defer {
            sqlite3_reset(sqlite)
            sqlite3_clear_bindings(sqlite)
        }
        for row in rows {
            guard row.count == columns.count else { throw StoreError.wrongArgumentCount }
            sqlite3_reset(sqlite)
            for (offset, value) in row.enumerated() {
                let code = bind(value, to: sqlite, at: Int32(offset + 1))
                guard code == SQLITE_OK else { throw failure(code, sql: sql) }
            }
            let code = sqlite3_step(sqlite)
            guard code == SQLITE_DONE else { throw failure(code, sql: sql) }
        }
    }

    /// A failed `sqlite3_step` or `sqlite3_bind_*`, as GRDB reports one.
    private func failure(_ code: Int32, sql: String) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)), sql: sql)
    }

    /// The statement of `sql` from the connection's cache, with `arguments` bound straight
    /// through SQLite's C API (strings and bytes copied by SQLite): GRDB's own arguments would
    /// box each value first, which cost a rebuild 15 % of its instructions. GRDB still runs the
    /// statement, so its bookkeeping (transaction state, schema cache, cancellation) holds.
    private func prepared(_ sql: String, _ arguments: SQLArguments) throws -> Statement {
        let statement = try db.cachedStatement(sql: sql)
        statement.setUncheckedArguments([])  // resets it and clears its bindings
        let sqlite = statement.sqliteStatement
        guard Int(sqlite3_bind_parameter_count(sqlite)) == arguments.values.count else {
            throw StoreError.wrongArgumentCount
        }
        for (offset, value) in arguments.values.enumerated() {
            let code = bind(value, to: sqlite, at: Int32(offset + 1))
            guard code == SQLITE_OK else { throw failure(code, sql: sql) }
        }
        return statement
    }

    private func bind(_ value: SQLValue, to statement: OpaquePointer, at index: Int32) -> Int32 {
        switch value {
        case .null: return sqlite3_bind_null(statement, index)
        case .integer(let integer): return sqlite3_bind_int64(statement, index, integer)
        case .real(let real): return sqlite3_bind_double(statement, index, real)
        case .text(var text):
            return text.withUTF8 { bytes in
                // An empty buffer may have no address, which SQLite would take for NULL.
                guard let start = bytes.baseAddress, !bytes.isEmpty else { return sqlite3_bind_text(statement, index, "", 0, sqliteTransient) }
                return sqlite3_bind_text(statement, index, UnsafeRawPointer(start).assumingMemoryBound(to: CChar.self), Int32(bytes.count), sqliteTransient)
            }
        case .blob(let data):
            return data.withUnsafeBytes { bytes in
                bytes.isEmpty ? sqlite3_bind_zeroblob(statement, index, 0)
                    : sqlite3_bind_blob(statement, index, bytes.baseAddress, Int32(bytes.count), sqliteTransient)
            }
        }
    }

    /// A column of the current row as the value SQLite stores.
    private func sqlValue(_ statement: OpaquePointer, column: Int32) -> SQLValue {
        switch sqlite3_column_type(statement, column) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, column))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(statement, column))
        case SQLITE_TEXT:
            let start = sqlite3_column_text(statement, column)  // before its length, as SQLite asks
            return .text(String(decoding: UnsafeBufferPointer(start: start, count: Int(sqlite3_column_bytes(statement, column))), as: UTF8.self))
        case SQLITE_BLOB:
            let start = sqlite3_column_blob(statement, column)
            let count = Int(sqlite3_column_bytes(statement, column))
            return .blob(start.map { Data(bytes: $0, count: count) } ?? Data())
        default: return .null
        }
    }

    /// Decodes each row from SQLite's statement in place (``StatementColumns``), without a row
    /// object in between: replays and rebuilds read every event through here.
    public func fetchEvents(sql: String, arguments: SQLArguments) throws -> [RecordedEvent] {
        let statement = try prepared(sql, arguments)
        let columns = StatementColumns(statement: statement.sqliteStatement)
        defer {
            sqlite3_reset(columns.statement)
            sqlite3_clear_bindings(columns.statement)
        }
        var events: [RecordedEvent] = []
        while true {
            switch sqlite3_step(columns.statement) {
            case SQLITE_ROW: events.append(try RecordedEvent(row: columns))
            case SQLITE_DONE: return events
            case let code: throw SQLiteErrors.mapped(failure(code, sql: sql))
            }
        }
    }

    public func executeScript(_ sql: String) throws {
        try db.execute(sql: sql)
    }

    /// A failure inside is reported as ``SQLiteDatabase/write(_:)`` reports one: SQLite's
    /// failures as PostgreSQL's SQLSTATEs (the savepoint's caller may keep the error and go on).
    public func savepoint<T>(_ body: () throws -> T) throws -> T {
        var result: T?
        do {
            try db.inSavepoint {
                result = try body()
                return .commit
            }
        } catch {
            throw SQLiteErrors.mapped(error)
        }
        guard let result else { preconditionFailure("a committed savepoint has a result") }
        return result
    }

    public func tableExists(_ name: String) throws -> Bool {
        try db.tableExists(name)
    }
}

/// SQLite's `SQLITE_TRANSIENT`: it copies a bound string or blob before the call returns.
private let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// The current row of a stepped SQLite statement, read column by column in place. A value of
/// another storage class than the column's throws (a row written by someone else).
struct StatementColumns: EventRow {
    let statement: OpaquePointer

    private func storageClass(_ column: Int) -> Int32 { sqlite3_column_type(statement, Int32(column)) }

    func int64(at column: Int) throws -> Int64 {
        guard storageClass(column) == SQLITE_INTEGER else { throw UnexpectedRow(column: "#\(column)", expected: "an integer") }
        return sqlite3_column_int64(statement, Int32(column))
    }

    func string(at column: Int) throws -> String {
        try withText(at: column) { String(decoding: $0, as: UTF8.self) }
    }

    func withText<Result>(at column: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> Result) throws -> Result {
        guard storageClass(column) == SQLITE_TEXT else { throw UnexpectedRow(column: "#\(column)", expected: "text") }
        let start = sqlite3_column_text(statement, Int32(column))  // before its length, as SQLite asks
        return try body(UnsafeBufferPointer(start: start, count: Int(sqlite3_column_bytes(statement, Int32(column)))))
    }

    func data(at column: Int) throws -> Data {
        try withBytes(at: column) { Data(buffer: $0) }
    }

    func bytes(at column: Int) throws -> [UInt8] {
        try withBytes(at: column) { Array($0) }
    }

    private func withBytes<Result>(at column: Int, _ body: (UnsafeBufferPointer<UInt8>) -> Result) throws -> Result {
        let storage = storageClass(column)
        guard storage == SQLITE_BLOB || storage == SQLITE_TEXT else { throw UnexpectedRow(column: "#\(column)", expected: "bytes") }
        let start = sqlite3_column_blob(statement, Int32(column))?.assumingMemoryBound(to: UInt8.self)
        return body(UnsafeBufferPointer(start: start, count: Int(sqlite3_column_bytes(statement, Int32(column)))))
    }
}
