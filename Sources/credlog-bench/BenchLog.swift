import CredlogDomain
import CredlogEvents
import CredlogProjections
import Foundation

/// A credlog database for one workload, opened the way the CLI opens it.
struct BenchLog {
    /// The SQLite file or the PostgreSQL URL (`--db`).
    let path: String
    let masterKey: MasterKey
    let database: any SQLDatabase
    let keys: KeyRing
    let store: any EventStore
    let service: CommandService

    /// A new database at `path` (a SQLite file, synchronous=FULL, or a PostgreSQL URL), with
    /// inline projections unless `projecting` is false.
    static func create(_ path: String, projecting: Bool = true, durability: Durability = .full) async throws -> BenchLog {
        let masterKey = MasterKey.generate()
        let database = try await CredlogDatabase.open(try StoreLocation(path), durability: durability, create: true)
        let keys = try await KeyRing.create(in: database, masterKey: masterKey, path: path)
        try await ProjectionRunner(database: database).prepare()
        return open(path, database: database, keys: keys, masterKey: masterKey, projecting: projecting)
    }

    static func open(_ path: String, database: any SQLDatabase, keys: KeyRing, masterKey: MasterKey, projecting: Bool = true) -> BenchLog {
        let observers: [any AppendObserver] = projecting ? [DataKeys.Shredder(), AccessTokens.Revoker(), InlineProjections()] : [DataKeys.Shredder(), AccessTokens.Revoker()]
        let store = CredlogDatabase.eventStore(database, chain: ChainHasher(key: keys.chainKey), observers: observers)
        let service = CommandService(store: store, vault: CredentialVault(database: database, keys: keys))
        return BenchLog(path: path, masterKey: masterKey, database: database, keys: keys, store: store, service: service)
    }

    /// Project `acme` with alice (admin) and bob (member).
    func seed() async throws {
        _ = try await service.createProject("acme", admin: "alice", context: CommandContext(principal: .system))
        _ = try await service.addMember("bob", role: .member, to: "acme", context: CommandContext(principal: .member("alice")))
    }

    /// One connection's realistic life, one command (one durable transaction) at a time:
    /// created, attached to three flows, renamed, expired, reconnected.
    func life(_ n: Int) async throws {
        var secret = Array(#"{"apiKey":"sk-live-\#(n)"}"#.utf8)
        let bob = CommandContext(principal: .member("bob"))
        let created = try await service.createConnection(projectId: "acme", piece: "hubspot", authType: .apiKey,
                                                         name: "Gmail \(n)", credentials: &secret, context: bob)
        guard let id = created.stream.connectionId else { return }
        for flow in 0..<3 { _ = try await service.attach(flow: "flow-\(flow)", to: id, context: CommandContext(principal: .member("bob"))) }
        _ = try await service.rename(id, to: "Gmail \(n) - Support", context: CommandContext(principal: .member("alice")))
        _ = try await service.expire(id, reason: "token expired", context: CommandContext(principal: .engine))
        var fresh = Array(#"{"apiKey":"sk-live-\#(n)-2"}"#.utf8)
        _ = try await service.reconnect(id, credentials: &fresh, context: CommandContext(principal: .member("alice")))
    }

    /// How many connections are active, as the connections table says.
    func activeConnections() async throws -> Int {
        try await database.read { try $0.fetchValue(sql: "SELECT COUNT(*) FROM connections WHERE status = 'active'") ?? 0 }
    }

    func eventCount() async throws -> Int {
        try await database.read { try $0.fetchValue(sql: "SELECT COUNT(*) FROM events") ?? 0 }
    }
}
