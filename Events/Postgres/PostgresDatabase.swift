import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// A credlog PostgreSQL database as an ``SQLDatabase``: postgres-nio's connection pool
/// (`PostgresClient`, a service run by the ``ServiceScope`` it is opened in), and a thread per
/// connection in use to run credlog's statements.
///
/// credlog's read models and projections are synchronous folds (the same code runs inside a
/// SQLite transaction), so a closure runs on a thread of its own and waits there for each
/// statement's answer, as GRDB does for SQLite; the event loops stay free.
public final class PostgresDatabase: SQLDatabase {
    public let location: PostgresLocation
    public var dialect: SQLDialect { .postgres }
    let client: PostgresClient
    private let threads: NIOThreadPool
    private let logger: Logger
    /// How long a statement's answer may take before its connection is given up (a server that
    /// stopped answering, a network black hole): the caller gets an error, never a hang.
    let answerDeadline: Duration
    /// Connects lazily: the first statement opens the first connection. Its pool runs in the
    /// current ``ServiceScope`` (outside one, it is refused: nothing would serve its statements).
    /// - Parameters:
    ///   - maximumConnections: connections (and threads) used at once by this process.
    ///   - answerDeadline: the longest wait for one statement's answer.
    public init(_ location: PostgresLocation, maximumConnections: Int = 16, answerDeadline: Duration = .seconds(120),
                logger: Logger = Logger(label: "credlog.postgres")) throws {
        guard ServiceScope.current != nil else { throw StoreError.outsideServiceScope(database: location.description) }
        self.answerDeadline = answerDeadline
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
        ServiceScope.start(client)
    }

    deinit {
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
    ///
    /// When the connection turns out to be lost (closed by PostgreSQL, a failover, a network
    /// cut) before `COMMIT` was sent, nothing was committed: the whole transaction runs again on
    /// another connection. Once `COMMIT` is sent, its failure is the caller's to see.
    private func transaction<T: Sendable>(_ opening: [String], _ body: @escaping @Sendable (any SQLSession) throws -> T)
        async throws -> T {
        try await withConnection(retrying: { session, error in !session.commitSent && PostgresSession.isConnectionLost(error) }) {
            session in
            do {
                for statement in opening { try session.execute(sql: statement) }
                let result = try body(session)
                session.commitSent = true
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
    ///
    /// The pool may lend a connection that PostgreSQL has already closed (a restart, a failover,
    /// `pg_terminate_backend`, a network cut) before it notices. When `retrying` says the
    /// failure left nothing done on the server (by default: the connection was lost before any
    /// statement was written to it), the body runs again on another connection, up to
    /// ``attemptsOnLostConnections`` times.
    func withConnection<T: Sendable>(
        retrying: @escaping @Sendable (PostgresSession, any Error) -> Bool = { session, error in
            session.nothingReachedTheServer && PostgresSession.isConnectionLost(error)
        },
        _ body: @escaping @Sendable (PostgresSession) throws -> T
    ) async throws -> T {
        let (logger, answerDeadline) = (logger, answerDeadline)
        var attempt = 1
        while true {
            do {
                return try await leasing { [threads] connection in
                    try await threads.runIfActive {
                        let session = PostgresSession(connection: connection, logger: logger, answerDeadline: answerDeadline)
                        do {
                            return try body(session)
                        } catch where retrying(session, error) {
                            throw LostBeforeDoingAnything(underlying: error)
                        }
                    }
                }
            } catch let lost as LostBeforeDoingAnything {
                guard attempt < Self.attemptsOnLostConnections else { throw lost.underlying }
                attempt += 1
            } catch let error as PSQLError {
                throw PostgresSession.storeError(error)
            }
        }
    }

    /// Runs `body` on a pooled connection. When none can be had (PostgreSQL down: the pool's
    /// attempt to connect is refused, reset or times out after its connect timeout), the
    /// failure is an outage (SQLSTATE class 08: 503 from the API), whatever its type.
    private func leasing<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let started = StartedFlag()
        do {
            return try await client.withConnection { connection in
                started.value.store(true, ordering: .releasing)
                return try await body(connection)
            }
        } catch where !started.value.load(ordering: .acquiring) && !(error is CancellationError) {
            throw (error as? PSQLError).map(PostgresSession.storeError)
                ?? StoreError.database(sqlState: "08001", message: "PostgreSQL could not be reached (\(type(of: error)))")
        }
    }

    /// How many connections a body is tried on when each was lost before it did anything.
    static let attemptsOnLostConnections = 4

    /// The body failed because its connection was lost, before anything took effect on the server.
    private struct LostBeforeDoingAnything: Error {
        let underlying: any Error
    }
}

/// Whether a leased connection's body has started.
final class StartedFlag: Sendable {
    let value = Atomic<Bool>(false)
}

/// How many statements a session has written to its connection.
final class WrittenStatements: Sendable {
    let count = Atomic<Int>(0)
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
    /// Statements actually written to the connection (counted on its event loop).
    let written = WrittenStatements()
    /// True while no statement of this session was written to the server: a failure now
    /// changed nothing there, and the work can be done again on another connection.
    var nothingReachedTheServer: Bool { written.count.load(ordering: .acquiring) == 0 }
    /// Set just before a transaction's `COMMIT` is sent: from then on a lost connection may or
    /// may not have committed it.
    var commitSent = false
    public var dialect: SQLDialect { .postgres }

    let answerDeadline: TimeAmount

    init(connection: PostgresConnection, logger: Logger, answerDeadline: Duration) {
        self.connection = connection
        self.logger = logger
        self.answerDeadline = TimeAmount(answerDeadline)
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
        let numbered = SQLScript.numberingPlaceholders(sql)
        guard numbered.count == arguments.values.count else {
            // PostgreSQL would take surplus values for parameters the statement does not use.
            return connection.eventLoop.makeFailedFuture(StoreError.wrongArgumentCount)
        }
        let query = PostgresQuery(unsafeSQL: numbered.sql, binds: bindings)
        // Written from the connection's event loop, and only while it is open: postgres-nio drops
        // a statement written to a closed connection (its answer would never come, and the
        // thread waiting for it would wait for ever).
        return connection.eventLoop.flatSubmit { [connection, logger, written, answerDeadline] in
            guard !connection.isClosed else {
                return connection.eventLoop.makeFailedFuture(Self.closedConnection)
            }
            written.count.add(1, ordering: .releasing)
            let answer = connection.query(query, logger: logger)
            // No answer in time: the connection is closed, which fails this statement (and the
            // pool replaces the connection) instead of leaving its caller waiting for ever.
            let deadline = connection.eventLoop.scheduleTask(in: answerDeadline) { let _: EventLoopFuture<Void> = connection.close() }
            answer.whenComplete { _ in deadline.cancel() }
            return answer
        }
    }

    /// What a statement meets on a connection that is already closed.
    static let closedConnection = StoreError.database(sqlState: "08003", message: "the connection to PostgreSQL is closed")

    /// Whether `error` says the connection is gone: closed before the statement was written
    /// (credlog's own check), closed or reset under it (SQLSTATE class 08), or the server
    /// ending the session (57P01 administrator command, 57P02 crash, 57P03 not yet accepting).
    static func isConnectionLost(_ error: any Error) -> Bool {
        guard case .database(let sqlState, _)? = error as? StoreError else { return false }
        return sqlState.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(sqlState)
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
