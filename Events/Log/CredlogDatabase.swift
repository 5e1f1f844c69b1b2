import Foundation
import GRDB

/// How hard an append waits for the disk.
public enum Durability: String, Sendable, CaseIterable {
    /// `synchronous=FULL`: a commit is on disk when the append returns (the default).
    case full
    /// `synchronous=NORMAL`: survives a crash of credlog, may lose the last commits on power loss.
    case normal
}

/// Where credlog keeps its log: a SQLite file (the default) or a PostgreSQL database.
public enum StoreLocation: Sendable, Equatable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(PostgresLocation)

    /// A `postgres://` URL, else a file path.
    public init(_ text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        self = PostgresLocation.isPostgresURL(text) ? .postgres(try PostgresLocation(url: text, environment: environment))
            : .sqlite(path: text)
    }

    /// The file path, or the URL without its password.
    public var description: String {
        switch self {
        case .sqlite(let path): path
        case .postgres(let location): location.description
        }
    }
}

/// Opens a credlog database, its schema migrated.
public enum CredlogDatabase {
    /// Opens (creating when `create` is true) the database at `location`. A database migrated
    /// by a newer credlog is refused (``StoreError/newerSchema(database:unknown:)``).
    public static func open(_ location: StoreLocation, durability: Durability = .full, create: Bool = false)
        async throws -> any SQLDatabase {
        switch location {
        case .sqlite(let path):
            return SQLiteDatabase(try open(path: path, durability: durability, create: create))
        case .postgres(let postgres):
            let database = try PostgresDatabase(postgres)
            if !create, try await !database.read({ try $0.tableExists("credlog_migrations") }) {
                throw StoreError.notInitialised(path: postgres.description)
            }
            try await PostgresSchema.migrate(database)
            return database
        }
    }

    /// The event log kept in `database`.
    /// - Parameters:
    ///   - observers: run inside each append transaction (inline projections, key shredding).
    ///   - metrics: where appends are counted and timed (nowhere by default).
    public static func eventStore(_ database: any SQLDatabase, chain: ChainHasher, observers: [any AppendObserver],
                                  metrics: LogMetrics = .none) -> any EventStore {
        LogStore(database: database, chain: chain, observers: observers, metrics: metrics)
    }

    /// Opens (creating when `create` is true) the SQLite database at `path`: WAL mode, the
    /// chosen durability, the schema migrated.
    public static func open(path: String, durability: Durability = .full, create: Bool = false) throws -> DatabasePool {
        if !create && !FileManager.default.fileExists(atPath: path) {
            throw StoreError.notInitialised(path: path)
        }
        if create {
            // Mode 0600 before SQLite opens it: its WAL and shared-memory files take the same mode.
            let fd = Foundation.open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
            if fd >= 0 { close(fd) }
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(TimeInterval(SQLiteDatabase.busyTimeout) / 1000)
        configuration.prepareDatabase { db in
            // Deleted content (a shredded data key) is overwritten, not left in free pages.
            try db.execute(sql: "PRAGMA secure_delete = ON")
        }
        let pool = try DatabasePool(path: path, configuration: configuration)
        // After the pool's own set-up: GRDB puts its writer in WAL mode with `synchronous =
        // NORMAL`, which would override a setting made in `prepareDatabase`. Only the writer
        // commits, and it stays open as long as the pool.
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = \(durability == .full ? "FULL" : "NORMAL")")
        }
        if !create, try pool.read({ try !$0.tableExists("events") }) {
            throw StoreError.notInitialised(path: path)
        }
        let migrator = LogSchema.migrator
        let unknown = try pool.read { db in try migrator.appliedIdentifiers(db).subtracting(migrator.migrations) }
        guard unknown.isEmpty else { throw StoreError.newerSchema(database: path, unknown: unknown.sorted()) }
        try migrator.migrate(pool)
        return pool
    }
}
