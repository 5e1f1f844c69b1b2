import CredlogEvents
import CredlogTestSupport
import Foundation
import Testing

/// What only PostgreSQL has to show: several servers on one database (each a store with its
/// own connection pool here), their notifications, and the order readers see commits in.
@Suite("PostgreSQL: several servers on one database", .enabled(if: TestPostgres.url != nil), .serviceScope)
struct PostgresStoreTests {
    /// Another server: its own pool, group commit and listener on the same database.
    static func server(for log: TemporaryLog) async throws -> any EventStore {
        let database = try await CredlogDatabase.open(try StoreLocation(log.path))
        return CredlogDatabase.eventStore(database, chain: ChainHasher(key: log.keys.chainKey), observers: [])
    }

    /// The first `count` events a subscription delivers, or a timeout (5 minutes: generous on a
    /// busy machine) well under its poll of an hour, so only a notification can deliver them.
    static func firstEvents(of subscription: EventSubscription, count: Int) -> Task<[Int64], any Error> {
        Task {
            try await withThrowingTaskGroup(of: [Int64].self) { group in
                group.addTask {
                    var positions: [Int64] = []
                    for try await event in subscription {
                        positions.append(event.position)
                        if positions.count == count { break }
                    }
                    return positions
                }
                group.addTask { try await Task.sleep(for: .seconds(300)); throw CancellationError() }
                defer { group.cancelAll() }
                return try await group.next()!
            }
        }
    }

    @Test func anAppendOnOneServerWakesTheSubscriptionsOfAnother() async throws {
        let log = try await TemporaryLog(backend: .postgres)
        let other = try await Self.server(for: log)
        let received = Self.firstEvents(of: other.subscribe(from: 1, pollInterval: .seconds(3600)), count: 3)
        try await Task.sleep(for: .milliseconds(300))  // the subscriber has read the empty log and waits
        for n in 1...3 { _ = try await log.store.append(StoreConformanceTests.request("s", .any, [StoreConformanceTests.event(n)])) }
        #expect(try await received.value == [1, 2, 3], "NOTIFY woke the other server long before its hourly poll")
    }

    @Test func aLostNotificationConnectionFallsBackToCatchingUp() async throws {
        let log = try await TemporaryLog(backend: .postgres)
        let other = try await Self.server(for: log)
        let received = Self.firstEvents(of: other.subscribe(from: 1, pollInterval: .seconds(3600)), count: 2)
        // Once the subscriber listens, kill every listening connection on this database (as a
        // failover or a network cut would).
        var killed = 0
        for _ in 0..<2400 where killed == 0 {
            try await Task.sleep(for: .milliseconds(50))
            killed = try await log.database.read { db in
                try db.fetchValue(sql: """
                    SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
                    WHERE datname = current_database() AND query LIKE 'LISTEN%'
                    """) ?? 0
            }
        }
        #expect(killed >= 1)
        _ = try await log.store.append(StoreConformanceTests.request("s", .any, [StoreConformanceTests.event(1)]))
        _ = try await log.store.append(StoreConformanceTests.request("s", .any, [StoreConformanceTests.event(2)]))
        #expect(try await received.value == [1, 2], "the subscriber caught up after listening again")
    }

    /// PostgreSQL ends every session of the database at once (a restart, a failover): the pool
    /// still lends the dead connections for a moment, and the statements that meet one run again
    /// on a new connection instead of failing; appends stay acknowledged exactly once.
    @Test func connectionsClosedByTheServerAreReplacedNotReported() async throws {
        let log = try await TemporaryLog(backend: .postgres)
        let killer = try PostgresDatabase(try PostgresLocation(url: log.path), maximumConnections: 1)
        for round in 1...5 {
            // Every connection of the pool in use once, so that all are open when they are killed.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<8 { group.addTask { _ = try await log.database.read { db in try db.fetchValue(sql: "SELECT 1 FROM pg_sleep(0.05)") as Int? } } }
                try await group.waitForAll()
            }
            let killed: Int = try await killer.read { db in
                try db.fetchValue(sql: """
                    SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
                    WHERE datname = current_database() AND pid <> pg_backend_pid()
                    """) ?? 0
            }
            #expect(killed >= 1)
            let results = try await withThrowingTaskGroup(of: Int64.self) { group in
                for n in 0..<8 {
                    group.addTask {
                        try await log.store.append(StoreConformanceTests.request(StreamID("s\(round)-\(n)"), .noStream,
                                                                                 [StoreConformanceTests.event(n)])).positions?.upperBound ?? 0
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.count == 8)
        }
        #expect(try await log.eventCount() == 40, "each append once: none lost, none doubled")
        #expect(try await ChainVerifier(chain: ChainHasher(key: log.keys.chainKey)).verify(log.database).isIntact)
    }

    /// A statement whose answer never comes (a server that stopped answering) fails after the
    /// answer deadline, with a connection error, instead of holding its caller for ever.
    @Test func aStatementWithNoAnswerFailsAtTheDeadline() async throws {
        let log = try await TemporaryLog(backend: .postgres)
        let impatient = try PostgresDatabase(try PostgresLocation(url: log.path), maximumConnections: 1, answerDeadline: .seconds(1))
        do {
            _ = try await impatient.read { db in try db.fetchValue(sql: "SELECT 1 FROM pg_sleep(600)") as Int? }
            Issue.record("a ten-minute statement came back")
        } catch let error as StoreError {
            guard case .database(let state, _) = error else { Issue.record("\(error)"); return }
            #expect(state.hasPrefix("08"), "\(error)")
        }
        #expect(try await impatient.read { db in try db.fetchValue(sql: "SELECT 1") as Int? } == 1, "a new connection serves the next")
    }

    /// Three servers append at once while a reader follows the log from its position: the
    /// reader never sees a position before every position below it has committed (it would
    /// skip the late one for ever), positions are unique and gapless, and the chain is one.
    @Test func readersNeverSeeACommitBeforeTheOnesBelowIt() async throws {
        let log = try await TemporaryLog(backend: .postgres)
        let servers = [log.store, try await Self.server(for: log), try await Self.server(for: log)]
        let total = 3 * 32 * 5
        let reader = Task {
            var next: Int64 = 1
            var gaps: [String] = []
            while next <= Int64(total) {
                let batch = try await log.store.readAll(from: next, limit: 50)
                for (offset, event) in batch.enumerated() where event.position != next + Int64(offset) {
                    gaps.append("expected \(next + Int64(offset)), read \(event.position)")
                }
                next += Int64(batch.count)
            }
            return (next - 1, gaps)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, server) in servers.enumerated() {
                for task in 0..<32 {
                    group.addTask {
                        for n in 0..<5 {
                            _ = try await server.append(StoreConformanceTests.request(StreamID("s\(index)-\(task)"), .any,
                                                                                      [StoreConformanceTests.event(n)]))
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let (seen, gaps) = try await reader.value
        #expect(gaps.isEmpty, "\(gaps.prefix(5))")
        #expect(seen == Int64(total))
        let all = try await log.allEvents()
        #expect(all.map(\.position) == Array(1...Int64(total)))
        #expect(Set(all.map(\.stream)).count == 3 * 32)
        let report = try await ChainVerifier(chain: ChainHasher(key: log.keys.chainKey)).verify(log.database)
        #expect(report.isIntact && report.eventCount == Int64(total))
    }

    @Test func aServerStartingBesideARunningOneMigratesNothingTwice() async throws {
        let log = try await TemporaryLog(backend: .postgres)
        // Five servers opening at once: the migrations run under the writer lock, once.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<5 { group.addTask { _ = try await CredlogDatabase.open(try StoreLocation(log.path)) } }
            try await group.waitForAll()
        }
        let applied: [String] = try await log.database.read { db in
            try db.fetchAll(sql: "SELECT identifier FROM credlog_migrations ORDER BY identifier").map { try $0[0] as String }
        }
        #expect(applied == ["v1: event log", "v2: credential reads and access tokens", "v3: credential lifecycle",
                            "v4: keyed tokens, retired data keys, bound OAuth2 states", "v5: the log indexed for audit queries",
                            "v6: token scope, expiry, last use and rotation; sessions"])
    }
}

/// Both backends refuse a database a newer credlog migrated, and change nothing in it.
@Suite("Schema versions", .serviceScope)
struct SchemaVersionTests {
    /// `scripts/test` requires the PostgreSQL half of the suites: it must not be skipped silently.
    @Test func postgresRunsWhenRequired() {
        if ProcessInfo.processInfo.environment["CREDLOG_REQUIRE_POSTGRES"] == "1" {
            #expect(TestBackend.available == [.sqlite, .postgres], "CREDLOG_TEST_POSTGRES names no server")
        }
    }

    @Test(arguments: TestBackend.available)
    func aDatabaseFromANewerCredlogIsRefusedAndLeftAsItIs(backend: TestBackend) async throws {
        let log = try await TemporaryLog(backend: backend)
        _ = try await log.store.append(StoreConformanceTests.request("s", .any, [StoreConformanceTests.event(1)]))
        let table = backend == .postgres ? "credlog_migrations" : "grdb_migrations"
        try await log.database.write { db in
            try db.execute(sql: "INSERT INTO \(table) (identifier) VALUES ('v9: from the future')")
        }
        let refusal = await #expect(throws: StoreError.self) { _ = try await CredlogDatabase.open(try StoreLocation(log.path)) }
        #expect(refusal?.description.contains("newer credlog") == true && refusal?.description.contains("v9: from the future") == true,
                "\(String(describing: refusal))")
        #expect(try await log.eventCount() == 1)
        let identifiers: [String] = try await log.database.read { db in
            try db.fetchAll(sql: "SELECT identifier FROM \(table)").map { try $0[0] as String }
        }
        #expect(identifiers.count == 7 && identifiers.contains("v9: from the future"), "nothing was migrated or removed")
    }
}
