import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// A credlog PostgreSQL database as an ``SQLDatabase``: postgres-nio's connection pool
/// (`PostgresClient`), and a thread per connection in use to run credlog's statements.
///
/// credlog's read models and projections are synchronous folds (the same code runs inside a
/// SQLite transaction), so a closure runs on a thread of its own and waits there for each
/// statement's answer, as GRDB does for SQLite; the event loops stay free.
public final class PostgresDatabase: SQLDatabase {
    public let location: PostgresLocation
    public var dialect: SQLDialect { .postgres }
    let client: PostgresClient
    private let threads: NIOThreadPool
    private let running: Task<Void, Never>
    private let logger: Logger

    /// Connects lazily: the first statement opens the first connection.
    /// - Parameter maximumConnections: connections (and threads) used at once by this process.
    public init(_ location: PostgresLocation, maximumConnections: Int = 16, logger: Logger = Logger(label: "credlog.postgres")) {
        var configuration = PostgresClient.Configuration(
            host: location.host, port: location.port, username: location.username, password: location.password,
            database: location.database, tls: location.clientTLS)
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(10)
        var poolLogger = Logger(label: "credlog.postgres.pool")
        poolLogger.logLevel = .error  // failures reach the callers; the pool's own chatter is not for the terminal
        let client = PostgresClient(configuration: configuration, backgroundLogger: poolLogger)
        self.location = location
        self.client = client
        self.logger = logger
        threads = NIOThreadPool(numberOfThreads: maximumConnections)
        threads.start()
        running = Task { await client.run() }
    }

    /// Released, it closes its connections.
    deinit {
        running.cancel()
        threads.shutdownGracefully { _ in }
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        try await transaction(["BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"], body)
    }

    /// Every write transaction first takes one transaction-scoped advisory lock, so writers
    /// take turns as they do on SQLite, across every process on this database: an append reads
    /// the head of the log after the previous append committed (gapless positions, committed
    /// in position order, one chain), and read-check-write steps (checkpoints, leases, the
    /// outbox) stay correct without each being written for PostgreSQL's concurrency.
    public func write<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        try await transaction(["BEGIN", "SELECT pg_advisory_xact_lock(\(Self.writerLock))"], body)
    }

    public func reclaimDeletedRows(of table: String) async throws {
        try await executeWithoutTransaction(sql: "VACUUM \(table)")
    }

    /// Creates a new, empty database `prefix_` + random on this server (tests, benchmarks);
    /// returns where it is.
    public func createDatabase(prefix: String) async throws -> PostgresLocation {
        let name = prefix + "_" + Sodium.randomBytes(6).hex
        try await executeWithoutTransaction(sql: "CREATE DATABASE \(name)")
        return location.database(name)
    }

    /// Runs one statement outside any transaction (`CREATE DATABASE`, `VACUUM`).
    private func executeWithoutTransaction(sql: String) async throws {
        try await withConnection { session in _ = try session.changes(sql: sql, arguments: []) }
    }

    /// The advisory lock's key: "credlog" in ASCII. Advisory locks belong to one database.
    static let writerLock: Int64 = 0x63_7265_646C_6F67

    /// Runs `body` in a transaction opened by `opening` (sent ahead: they travel with the
    /// body's first statement that waits), on a connection and a thread of its own.
    private func transaction<T: Sendable>(_ opening: [String], _ body: @escaping @Sendable (any SQLSession) throws -> T)
        async throws -> T {
        try await withConnection { session in
            do {
                for statement in opening { try session.execute(sql: statement) }
                let result = try body(session)
                _ = try session.changes(sql: "COMMIT", arguments: [])
                return result
            } catch {
                try? session.settle()
                if !session.connection.isClosed { _ = try? session.changes(sql: "ROLLBACK", arguments: []) }
                throw error
            }
        }
    }

    /// Runs `body` on a pooled connection outside any transaction (migrations, `LISTEN`'s setup).
    func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) throws -> T) async throws -> T {
        let logger = logger
        do {
            return try await client.withConnection { connection in
                try await threads.runIfActive { try body(PostgresSession(connection: connection, logger: logger)) }
            }
        } catch let error as PSQLError {
            throw PostgresSession.storeError(error)
        }
    }
}

/// One PostgreSQL connection as an ``SQLSession``, used by one thread (never an event loop's).
///
/// Statements whose answer nobody reads (``execute(sql:arguments:)``) are sent without waiting:
/// they travel together, and the first failure among them is thrown by the next statement that
/// waits (a fetch, a count, the end of a savepoint, the commit). A failed statement aborts the
/// transaction, so nothing after it takes effect.
public final class PostgresSession: SQLSession {
    let connection: PostgresConnection
    let logger: Logger
    /// Sent, not yet answered, in the order sent.
    private var unanswered: [EventLoopFuture<PostgresQueryResult>] = []
    public var dialect: SQLDialect { .postgres }

    init(connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    public func execute(sql: String, arguments: SQLArguments) throws {
        unanswered.append(send(sql, arguments))
        if unanswered.count >= 256 { try settle() }
    }

    public func changes(sql: String, arguments: SQLArguments) throws -> Int {
        try run(sql, arguments).metadata.rows ?? 0
    }

    public func fetchAll(sql: String, arguments: SQLArguments) throws -> [SQLRow] {
        let result = try run(sql, arguments)
        guard let first = result.rows.first else { return [] }
        let columns = SQLColumns(first.map(\.columnName))
        return try result.rows.map { row in SQLRow(columns: columns, values: try row.map(Self.value)) }
    }

    public func executeScript(_ sql: String) throws {
        for statement in SQLScript.statements(sql) { try execute(sql: statement, arguments: []) }
        try settle()
    }

    public func savepoint<T>(_ body: () throws -> T) throws -> T {
        try execute(sql: "SAVEPOINT credlog_savepoint", arguments: [])
        do {
            let result = try body()
            try settle()  // the body's own failures belong to it, not to whatever comes next
            try execute(sql: "RELEASE SAVEPOINT credlog_savepoint", arguments: [])
            return result
        } catch {
            try? settle()
            _ = try run("ROLLBACK TO SAVEPOINT credlog_savepoint", [])
            try execute(sql: "RELEASE SAVEPOINT credlog_savepoint", arguments: [])
            throw error
        }
    }

    public func tableExists(_ name: String) throws -> Bool {
        try fetchValue(sql: "SELECT to_regclass(?) IS NOT NULL", arguments: [name]) ?? false
    }

    /// Waits for every statement sent ahead; throws the first failure among them.
    func settle() throws {
        let waiting = unanswered
        unanswered = []
        var firstFailure: (any Error)?
        for answer in waiting {
            do { _ = try answer.wait() } catch { firstFailure = firstFailure ?? error }
        }
        if let firstFailure { throw (firstFailure as? PSQLError).map(Self.storeError) ?? firstFailure }
    }

    /// Runs a statement and waits for its answer (and for those sent ahead of it).
    private func run(_ sql: String, _ arguments: SQLArguments) throws -> PostgresQueryResult {
        let answer = send(sql, arguments)
        try settle()
        do {
            return try answer.wait()
        } catch let error as PSQLError {
            throw Self.storeError(error)
        }
    }

    private func send(_ sql: String, _ arguments: SQLArguments) -> EventLoopFuture<PostgresQueryResult> {
        var bindings = PostgresBindings(capacity: arguments.values.count)
        for value in arguments.values {
            switch value {
            case .null: bindings.appendNull()
            case .integer(let integer): bindings.append(integer)
            case .real(let real): bindings.append(real)
            case .text(let text): bindings.append(text)
            case .blob(let data): bindings.append(ByteBuffer(bytes: data))
            }
        }
        let query = PostgresQuery(unsafeSQL: SQLScript.numberingPlaceholders(sql), binds: bindings)
        // Written from the connection's event loop, and only while it is open: postgres-nio drops
        // a statement written to a closed connection (its answer would never come, and the
        // thread waiting for it would wait for ever).
        return connection.eventLoop.flatSubmit { [connection, logger] in
            guard !connection.isClosed else {
                return connection.eventLoop.makeFailedFuture(
                    StoreError.database(sqlState: "08003", message: "the connection to PostgreSQL is closed"))
            }
            return connection.query(query, logger: logger)
        }
    }

    /// The server's message and SQLSTATE, never the statement's values (postgres-nio's own
    /// description hides everything; its debug description shows the binds).
    static func storeError(_ error: PSQLError) -> StoreError {
        guard let server = error.serverInfo else {
            return .database(sqlState: "08000", message: "the connection to PostgreSQL failed (\(error.code.description))")
        }
        return .database(sqlState: server[.sqlState] ?? "?????", message: server[.message] ?? "no message")
    }

    private static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8: return .integer(try cell.decode(Int64.self))
        case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
        case .float4, .float8: return .real(try cell.decode(Double.self))
        case .numeric:
            let decimal = try cell.decode(Decimal.self)
            let integer = NSDecimalNumber(decimal: decimal).int64Value
            return Decimal(integer) == decimal ? .integer(integer) : .real(NSDecimalNumber(decimal: decimal).doubleValue)
        case .bytea: return .blob(Data(try cell.decode(ByteBuffer.self).readableBytesView))
        default: return .text(try cell.decode(String.self))
        }
    }
}
