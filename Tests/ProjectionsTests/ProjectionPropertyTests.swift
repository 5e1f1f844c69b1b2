import CredlogDomain
import CredlogEvents
import CredlogProjections
import CredlogTestSupport
import Synchronization
import Testing

@Suite("Projections agree with a rebuild and with a naive fold", .serviceScope)
struct ProjectionPropertyTests {
    @Test(arguments: TestBackend.available, [1, 2, 3, 4, 5, 6] as [UInt64])
    func incrementalEqualsRebuiltEqualsNaive(backend: TestBackend, seed: UInt64) async throws {
        let log = try await TemporaryLog(backend: backend, durability: .normal)
        var history = RandomHistory(log: log, seed: seed)
        try await history.run(120)
        #expect(history.refused > 10, "the history includes refused commands")
        #expect(history.connections.count > 3)

        let incremental = try await log.projectionTables()
        try await ProjectionRunner(database: log.database).rebuild()
        let rebuilt = try await log.projectionTables()
        #expect(incremental == rebuilt, "seed \(seed): rebuilt tables differ from the incremental ones")

        let naive = try NaiveFold(try await log.allEvents())
        let rows = try await log.database.read { db in
            try db.fetchAll(sql: "SELECT \(ConnectionRow.columnList) FROM connections ORDER BY id").map(ConnectionRow.init(positional:))
        }
        #expect(rows.map(\.id) == naive.connections.keys.sorted(), "seed \(seed): the same connections")
        for row in rows {
            let expected = try #require(naive.connections[row.id])
            #expect(row.projectId == expected.project && row.piece == expected.piece && row.authType == expected.auth)
            #expect(row.name == expected.name && row.nameKey == expected.name.lowercased())
            #expect(row.status.rawValue == expected.status && row.statusReason == expected.reason)
            #expect(row.flowCount == expected.flows.count)
            #expect(row.connectedAt.iso8601 == expected.connectedAt && row.statusChangedAt.iso8601 == expected.statusChangedAt)
            #expect(row.credentialFingerprint == expected.fingerprint && row.credentialExpiresAt == expected.expiresAt)
        }
        let usage = try await log.database.read { db in
            try db.fetchAll(sql: "SELECT connection_id, flow_id, attached_at, detached_at FROM flow_usage ORDER BY attached_position")
                .map { "\(try $0[0] as String)|\(try $0[1] as String)|\(try $0[2] as String)|\((try $0[3] as String?) ?? "-")" }
        }
        #expect(usage == naive.usage.map { "\($0.0)|\($0.1)|\($0.2)|\($0.3 ?? "-")" })
        let statusRows = try await log.database.read { db in
            try db.fetchAll(StatusChange.self, sql: "SELECT * FROM status_history ORDER BY position")
                .map { "\($0.position)|\($0.connectionId)|\($0.fromStatus?.rawValue ?? "-")|\($0.toStatus.rawValue)|\($0.reason ?? "-")|\($0.actorId)" }
        }
        #expect(statusRows == naive.history.map { "\($0.0)|\($0.1)|\($0.2 ?? "-")|\($0.3)|\($0.4 ?? "-")|\($0.5)" })
        let members = try await log.database.read { db in
            try db.fetchAll(sql: "SELECT project_id, member_id, role FROM project_members ORDER BY 1, 2")
                .map { "\(try $0[0] as String)/\(try $0[1] as String)/\(try $0[2] as String)" }
        }
        #expect(members == naive.members.flatMap { project, people in people.map { "\(project)/\($0.key)/\($0.value)" } }.sorted())
        let appended = try await log.database.read { db in try AuditQuery().fetch(db).filter { $0.outcome == "appended" } }
        #expect(appended.count == (try await log.eventCount()))
        #expect(appended.map(\.position) == (1...Int64(appended.count)).map { $0 }, "one line per event, in log order")
    }

    @Test func timeTravelReturnsTheStateTheConnectionHadWhenTheClockStoodThere() async throws {
        let log = try await TemporaryLog(durability: .normal)
        var history = RandomHistory(log: log, seed: 42)
        try await history.run(100)
        let travel = TimeTravel(store: log.store)
        var checked = 0
        for (time, states) in history.checkpoints {
            for (id, expected) in states {
                let snapshot = try await travel.connection(id, at: .time(time))
                #expect((snapshot?.state ?? .none) == expected, "\(id) at \(time)")
                checked += 1
            }
        }
        #expect(checked > 100)
        // By position: the state right after each of a connection's events.
        let id = try #require(history.connections.first)
        let events = try await log.store.readStream(.connection(id), from: 1)
        for (index, event) in events.enumerated() {
            let expected = ConnectionState.fold(try events[...index].map { try $0.decode(as: ConnectionEvent.self) })
            #expect(try await travel.connection(id, at: .position(event.position))?.state == expected)
        }
        #expect(try await travel.connection(id, at: .position(events[0].position - 1)) == nil, "not yet created")
    }

    @Test(arguments: TestBackend.available)
    func aChangedProjectionVersionIsRebuiltOnStart(backend: TestBackend) async throws {
        let log = try await TemporaryLog(backend: backend, durability: .normal)
        var history = RandomHistory(log: log, seed: 9)
        try await history.run(40)
        let before = try await log.projectionTables()
        try await log.database.write { db in
            try db.execute(sql: "UPDATE projection_checkpoints SET version = 0 WHERE name = 'connections'")
            try db.execute(sql: "DELETE FROM connections")
        }
        let runner = ProjectionRunner(database: log.database)
        #expect(try await runner.prepare() == ["connections"])
        #expect(try await runner.status().first { $0.name == "connections" }?.checkpoint == 0)
        try await runner.catchUp()
        #expect(try await log.projectionTables() == before)
        #expect(try await runner.status().allSatisfy { $0.lag == 0 })
    }

    @Test(arguments: TestBackend.available)
    func aProjectionThatIsBehindIsNotFedInlineButCatchesUp(backend: TestBackend) async throws {
        let log = try await TemporaryLog(backend: backend, durability: .normal)
        try await log.seedProject()
        try await log.database.write { db in
            try db.execute(sql: "UPDATE projection_checkpoints SET position = 0 WHERE name = 'project-members'")
            try db.execute(sql: "DELETE FROM project_members")
        }
        var secret = Array(#"{"apiKey":"k"}"#.utf8)
        _ = try await log.service.createConnection(projectId: "acme", piece: "hubspot", authType: .apiKey, name: "G", credentials: &secret,
                                                   context: CommandContext(principal: .member("bob")))
        #expect(try await log.database.read { try $0.fetchValue(sql: "SELECT COUNT(*) FROM project_members") as Int? } == 0,
                "an event is never applied out of order")
        try await ProjectionRunner(database: log.database).catchUp()
        #expect(try await log.database.read { try $0.fetchValue(sql: "SELECT COUNT(*) FROM project_members") as Int? } == 2)
    }

    /// A rebuild on a non-empty log builds the query indexes once it reaches the head (they wait
    /// in `projection_pending_indexes` until then); on an empty log they are made with the tables.
    @Test(arguments: TestBackend.available)
    func queryIndexesWaitForTheHeadOfARebuildThenExist(backend: TestBackend) async throws {
        let log = try await TemporaryLog(backend: backend, durability: .normal)
        let expected = BuiltInProjections.all.flatMap(\.queryIndexes).map { $0.split(separator: " ")[2] }.map(String.init).sorted()
        #expect(expected.count == 10)
        #expect(try await Self.indexes(log, named: expected) == expected, "made with the tables of an empty log")
        var history = RandomHistory(log: log, seed: 4)
        try await history.run(30)
        let before = try await log.projectionTables()
        let runner = ProjectionRunner(database: log.database, batchSize: 7)
        try await log.database.write { db in
            try db.execute(sql: "UPDATE projection_checkpoints SET version = 0 WHERE name IN ('connections', 'status-history')")
        }
        #expect(try await runner.prepare().sorted() == ["connections", "status-history"])
        let waiting = try await log.database.read { db in
            try db.fetchAll(sql: "SELECT projection FROM projection_pending_indexes").map { try $0[0] as String }
        }
        #expect(waiting.sorted() == Array(repeating: "connections", count: 7) + ["status-history"])
        #expect(try await Self.indexes(log, named: expected).count == 2, "only the untouched projections' indexes exist")
        try await runner.catchUp()
        #expect(try await Self.indexes(log, named: expected) == expected)
        #expect(try await log.database.read { try $0.fetchValue(sql: "SELECT COUNT(*) FROM projection_pending_indexes") as Int? } == 0)
        #expect(try await log.projectionTables() == before)
    }

    /// When a checkpoint moves back under a catch-up (here another process resets the connections
    /// projection between two batches), the catch-up goes on from the lowest checkpoint: nothing
    /// is skipped and nothing applied twice. (SQLite only: the reset is written from the progress
    /// callback, which cannot wait for PostgreSQL's asynchronous pool.)
    @Test func aCheckpointMovedBackUnderACatchUpIsCaughtUpFromThere() async throws {
        let log = try await TemporaryLog(backend: .sqlite, durability: .normal)
        var history = RandomHistory(log: log, seed: 11)
        try await history.run(40)
        let before = try await log.projectionTables()
        let pool = try #require(log.database as? SQLiteDatabase).pool
        let runner = ProjectionRunner(database: log.database, batchSize: 9)
        try await log.database.write { db in
            try db.execute(sql: "UPDATE projection_checkpoints SET version = 0")
        }
        #expect(try await runner.prepare().count == BuiltInProjections.all.count)
        let firstBatches = Counter()
        try await runner.catchUp { progress in
            guard progress.applied == 9, firstBatches.increment() == 1 else { return }
            try? pool.write { db in
                try db.execute(sql: "UPDATE projection_checkpoints SET position = 0 WHERE name = 'connections'")
                try db.execute(sql: "DELETE FROM connections")
            }
        }
        #expect(firstBatches.value == 2, "after the reset, the catch-up went back to position 0 and read the first batch again")
        #expect(try await log.projectionTables() == before)
        #expect(try await runner.status().allSatisfy { $0.lag == 0 })
    }

    /// A count shared with a `@Sendable` callback.
    final class Counter: Sendable {
        private let count = Mutex(0)
        var value: Int { count.withLock { $0 } }
        func increment() -> Int { count.withLock { $0 += 1; return $0 } }
    }

    /// Which of `names` exist as indexes, sorted.
    static func indexes(_ log: TemporaryLog, named names: [String]) async throws -> [String] {
        let sql = log.database.dialect == .postgres
            ? "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
            : "SELECT name FROM sqlite_master WHERE type = 'index'"
        return try await log.database.read { db in try db.fetchAll(sql: sql).map { try $0[0] as String } }
            .filter(names.contains).sorted()
    }
}
