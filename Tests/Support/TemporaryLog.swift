import CredlogDomain
import CredlogEvents
import CredlogProjections
import Foundation
import GRDB

/// A fresh credlog database in a temporary directory, with its keys and services.
public final class TemporaryLog: @unchecked Sendable {
    public let directory: URL
    public let path: String
    public let masterKey: MasterKey
    public let database: DatabasePool
    public let keys: KeyRing
    public let store: SQLiteEventStore
    public let vault: CredentialVault
    public let service: CommandService

    public init(durability: Durability = .full) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("credlog-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        path = directory.appendingPathComponent("credlog.sqlite").path
        masterKey = MasterKey.generate()
        database = try CredlogDatabase.open(path: path, durability: durability, create: true)
        keys = try KeyRing.create(in: database, masterKey: masterKey, path: path)
        try ProjectionRunner(database: database).prepare()
        store = SQLiteEventStore(database: database, chain: ChainHasher(key: keys.chainKey),
                                 observers: [DataKeys.Shredder(), InlineProjections()])
        vault = CredentialVault(database: database, keys: keys)
        service = CommandService(store: store, vault: vault)
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Every event in the log.
    public func allEvents() async throws -> [RecordedEvent] {
        try await store.readAll(from: 1, limit: .max)
    }

    /// The number of rows in the `events` table.
    public func eventCount() throws -> Int {
        try database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM events") ?? 0 }
    }

    /// Every row of every projection table, sorted: for comparing read models.
    public func projectionTables() throws -> [String: [[String]]] {
        try database.read { db in
            var tables: [String: [[String]]] = [:]
            for projection in BuiltInProjections.all {
                for table in projection.tables {
                    let rows = try Row.fetchAll(db, sql: "SELECT * FROM \(table)")
                    tables[table] = rows.map { row in row.databaseValues.map { $0.description } }
                        .sorted { $0.lexicographicallyPrecedes($1) }
                }
            }
            return tables
        }
    }

    /// The bytes of the database file and its write-ahead log.
    public func fileBytes() throws -> [UInt8] {
        var bytes: [UInt8] = []
        for suffix in ["", "-wal"] {
            if let data = FileManager.default.contents(atPath: path + suffix) { bytes += data }
        }
        return bytes
    }

    /// A project `acme` with admin `alice` and member `bob`.
    public func seedProject(_ project: String = "acme") async throws {
        _ = try await service.createProject(project, admin: "alice", context: CommandContext(principal: .system))
        _ = try await service.addMember("bob", role: .member, to: project, context: CommandContext(principal: .member("alice")))
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
