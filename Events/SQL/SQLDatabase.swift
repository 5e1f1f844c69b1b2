import Foundation

/// Which SQL a database speaks. credlog's statements are written once, in the common subset
/// (`?` placeholders, `ON CONFLICT`, `RETURNING`, ISO 8601 text for times, 0/1 for booleans);
/// the few differences of table definitions go through ``SQLDialect/tableDefinition(_:)``.
public enum SQLDialect: String, Sendable {
    case sqlite
    case postgres

    /// A join that reads its left table first: SQLite's planner takes `CROSS JOIN` as that
    /// order; PostgreSQL's finds it itself (and has no `CROSS JOIN … ON`).
    public var orderedJoin: String { self == .postgres ? "JOIN" : "CROSS JOIN" }

    /// The function giving a substring's 1-based position in a string (0 when absent).
    public var position: String { self == .postgres ? "strpos" : "instr" }

    /// Rewrites a `CREATE TABLE`/`CREATE INDEX` script written for SQLite for this dialect:
    /// on PostgreSQL `BLOB` becomes `BYTEA`, `INTEGER` becomes `BIGINT` (positions outgrow 32
    /// bits), text compares byte by byte as in SQLite (`COLLATE "C"`: the same order on both
    /// backends), and `WITHOUT ROWID` (a SQLite storage choice) goes.

    public func tableDefinition(_ script: String) -> String {
        guard self == .postgres else { return script }
        return script
            .replacingOccurrences(of: #"\bBLOB\b"#, with: "BYTEA", options: .regularExpression)
            .replacingOccurrences(of: #"\bINTEGER\b"#, with: "BIGINT", options: .regularExpression)
            .replacingOccurrences(of: #"\bTEXT\b"#, with: #"TEXT COLLATE "C""#, options: .regularExpression)
            .replacingOccurrences(of: #"\s+WITHOUT ROWID"#, with: "", options: .regularExpression)
    }
}

/// One connection to the database, inside a transaction (a write) or a consistent snapshot
/// (a read). Statements use `?` placeholders.
public protocol SQLSession {
    var dialect: SQLDialect { get }

    /// Runs one statement. A backend may send it ahead without waiting for its answer; a
    /// failure then surfaces at the next statement that waits, and the transaction fails.
    func execute(sql: String, arguments: SQLArguments) throws

    /// Runs one statement and returns the number of rows it changed.
    func changes(sql: String, arguments: SQLArguments) throws -> Int

    /// Runs one statement and returns its rows.
    func fetchAll(sql: String, arguments: SQLArguments) throws -> [SQLRow]

    /// Runs several statements separated by `;`, without arguments (table definitions).
    func executeScript(_ sql: String) throws

    /// Runs `body` in a savepoint: if it throws, its writes are undone and the transaction goes on.
    func savepoint<T>(_ body: () throws -> T) throws -> T

    /// Whether a table of this name exists.
    func tableExists(_ name: String) throws -> Bool
}

extension SQLSession {
    public func execute(sql: String) throws { try execute(sql: sql, arguments: []) }

    public func fetchAll(sql: String) throws -> [SQLRow] { try fetchAll(sql: sql, arguments: []) }

    /// The first row, if any.
    public func fetchOne(sql: String, arguments: SQLArguments = []) throws -> SQLRow? {
        try fetchAll(sql: sql, arguments: arguments).first
    }

    /// The first column of the first row, or nil when there is no row or it is NULL.
    public func fetchValue<Value: SQLReadable>(sql: String, arguments: SQLArguments = []) throws -> Value? {
        guard let row = try fetchOne(sql: sql, arguments: arguments), row.values.first != .null else { return nil }
        return row[0] as Value
    }
}

/// A database credlog keeps its log, read models and lifecycle tables in: a pool of
/// connections, each used by one closure at a time.
public protocol SQLDatabase: Sendable {
    var dialect: SQLDialect { get }

    /// Runs `body` on a read-only snapshot.
    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T

    /// Runs `body` in a transaction, committed when it returns and rolled back when it throws.
    func write<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T

    /// Makes the space of deleted rows unreadable now rather than eventually (a shredded data
    /// key): SQLite moves the write-ahead log into the file (whose deleted content is zeroed),
    /// PostgreSQL vacuums the table.
    func reclaimDeletedRows(of table: String) async throws
}
