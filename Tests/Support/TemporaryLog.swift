import Metrics
import CredlogDomain
import CredlogEvents
import CredlogProjections
import Foundation
import GRDB

/// The backends a suite can run against. PostgreSQL joins when `CREDLOG_TEST_POSTGRES` names a
/// server (`scripts/test` starts a throwaway cluster and sets it).
public enum TestBackend: String, Sendable, CaseIterable, CustomStringConvertible {
    case sqlite, postgres

    public var description: String { rawValue }

    /// SQLite, and PostgreSQL when a server is configured.
    public static var available: [TestBackend] {
        TestPostgres.url == nil ? [.sqlite] : [.sqlite, .postgres]
    }
}

/// The PostgreSQL server the tests may use: a fresh database per ``TemporaryLog``.
public enum TestPostgres {
    public static let url = ProcessInfo.processInfo.environment["CREDLOG_TEST_POSTGRES"].flatMap { $0.isEmpty ? nil : $0 }

    /// A new, empty database on the test server (inside the test's ``ServiceScope``).
    public static func newDatabase() async throws -> PostgresLocation {
        guard let url else { preconditionFailure("CREDLOG_TEST_POSTGRES is not set") }
        return try await PostgresDatabase(PostgresLocation(url: url), maximumConnections: 1).createDatabase(prefix: "credlog_test")
    }
}

/// A fresh credlog database (a SQLite file in a temporary directory, or a new PostgreSQL
/// database), with its keys and services.
public final class TemporaryLog: @unchecked Sendable {
    public let backend: TestBackend
    public let directory: URL
    /// The SQLite file, or the PostgreSQL URL (`--db`).
    public let path: String
    public let masterKey: MasterKey
    public let database: any SQLDatabase
    public let keys: KeyRing
    public let store: any EventStore
    public let vault: CredentialVault
    public let service: CommandService
    /// The reads, each checking what its reader may see.
    public var queries: QueryService { QueryService(store: store, database: database, service: service) }

    /// With `metrics`, the database's pool use and the appends are recorded there (as `serve` records them).
    public init(backend: TestBackend = .sqlite, durability: Durability = .full, metrics: (any MetricsFactory)? = nil) async throws {
        self.backend = backend
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("credlog-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let location: StoreLocation = switch backend {
        case .sqlite: .sqlite(path: directory.appendingPathComponent("credlog.sqlite").path)
        case .postgres: .postgres(try await TestPostgres.newDatabase())
        }
        path = location.description
        masterKey = MasterKey.generate()
        let opened = try await CredlogDatabase.open(location, durability: durability, create: true)
        database = metrics.map { MeteredDatabase(opened, factory: $0) } ?? opened
        keys = try await KeyRing.create(in: database, masterKey: masterKey, path: path)
        try await ProjectionRunner(database: database).prepare()
        store = CredlogDatabase.eventStore(database, chain: ChainHasher(key: keys.chainKey),
                                           observers: [DataKeys.Shredder(), AccessTokens.Revoker(), InlineProjections()],
                                           metrics: metrics.map(LogMetrics.init(factory:)) ?? .none)
        vault = CredentialVault(database: database, keys: keys)
        service = CommandService(store: store, vault: vault)
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    /// The SQLite pool, for tests of SQLite itself (files, GRDB observers).
    public var pool: DatabasePool {
        guard let sqlite = database.underlying as? SQLiteDatabase else { preconditionFailure("a SQLite-only test ran on \(backend)") }
        return sqlite.pool
    }

    /// Every event in the log.
    public func allEvents() async throws -> [RecordedEvent] {
        try await store.readAll(from: 1, limit: .max)
    }

    /// The number of rows in the `events` table.
    public func eventCount() async throws -> Int {
        try await database.read { try $0.fetchValue(sql: "SELECT COUNT(*) FROM events") ?? 0 }
    }

    /// Every row of every projection table, sorted: for comparing read models.
    public func projectionTables() async throws -> [String: [[String]]] {
        try await database.read { db in
            var tables: [String: [[String]]] = [:]
            for projection in BuiltInProjections.all {
                for table in projection.tables {
                    tables[table] = try db.fetchAll(sql: "SELECT * FROM \(table)").map { row in row.values.map(\.testDescription) }
                        .sorted { $0.lexicographicallyPrecedes($1) }
                }
            }
            return tables
        }
    }

    /// Everything the database stores, as bytes: the SQLite file and its write-ahead log, or
    /// every row of every PostgreSQL table (text as UTF-8, bytes as they are).
    public func storedBytes() async throws -> [UInt8] {
        if backend == .sqlite {
            var bytes: [UInt8] = []
            for suffix in ["", "-wal"] {
                if let data = FileManager.default.contents(atPath: path + suffix) { bytes += data }
            }
            return bytes
        }
        return try await database.read { db in
            let tables = try db.fetchAll(sql: "SELECT tablename FROM pg_tables WHERE schemaname = 'public'").map { try $0[0] as String }
            var bytes: [UInt8] = []
            for table in tables {
                for row in try db.fetchAll(sql: "SELECT * FROM \(table)") {
                    for value in row.values {
                        switch value {
                        case .text(let text): bytes += Array(text.utf8)
                        case .blob(let data): bytes += data
                        default: bytes += Array(value.testDescription.utf8)
                        }
                        bytes.append(0)
                    }
                }
            }
            return bytes
        }
    }

    /// A project `acme` with admin `alice` and member `bob`.
    public func seedProject(_ project: String = "acme") async throws {
        _ = try await service.createProject(project, admin: "alice", context: CommandContext(principal: .system))
        _ = try await service.addMember("bob", role: .member, to: project, context: CommandContext(principal: .member("alice")))
    }
}

extension SQLValue {
    /// The value as text, the same on both backends (for comparing tables).
    public var testDescription: String {
        switch self {
        case .null: "NULL"
        case .integer(let integer): String(integer)
        case .real(let real): String(real)
        case .text(let text): text
        case .blob(let data): data.base64EncodedString()
        }
    }
}

extension Array where Element == UInt8 {
    /// Whether `needle` occurs anywhere in these bytes.
    public func contains(bytes needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else { return false }
        let first = needle[0]
        var index = 0
        while index <= count - needle.count {
            if self[index] == first, Array(self[index..<index + needle.count]) == needle { return true }
            index += 1
        }
        return false
    }
}

extension TemporaryLog {
    /// Issues an API token as the operator would (`credlog token create`): the token text and its id.
    public func issueToken(member: String?, project: String = "acme") async throws -> (token: String, id: String) {
        let issued = try await service.issueToken(kind: member == nil ? .engine : .member, memberId: member, in: project,
                                                  context: CommandContext(principal: .system))
        return (issued.token, issued.record.tokenId)
    }

    /// Revokes a token as the operator would (`credlog token revoke`).
    public func revokeToken(_ tokenId: String, project: String = "acme") async throws {
        _ = try await service.revokeToken(tokenId, in: project, context: CommandContext(principal: .system))
    }

    /// Creates an API-key connection named `name` in project `acme` (key `k`) as `member` would,
    /// at `time`: its id.
    @discardableResult
    public func createAPIKeyConnection(named name: String, piece: String = "hubspot", by member: String = "bob",
                                       at time: Timestamp = .now()) async throws -> String {
        var secret = Array(#"{"apiKey":"k"}"#.utf8)
        let outcome = try await service.createConnection(projectId: "acme", piece: piece, authType: .apiKey, name: name, credentials: &secret,
                                                         context: CommandContext(principal: .member(member), now: time))
        guard let id = outcome.stream.connectionId else { throw CocoaError(.coderInvalidValue) }
        return id
    }
}
