import CredlogDomain
import CredlogEvents
import CredlogProjections
import Testing
import CredlogTestSupport

/// The audit trail is read from the log itself: its filters, run as SQL over `events`,
/// `refusals` and `credential_reads`, select exactly the lines that the same filters select
/// from the whole trail; and a database that still has the old copy of the log (or the old
/// trigram tables) drops it on start.
@Suite("Audit from the log", .serviceScope)
struct AuditFromTheLogTests {
    @Test(arguments: TestBackend.available)
    func eachFilterSelectsWhatItSelectsFromTheWholeTrail(backend: TestBackend) async throws {
        let log = try await TemporaryLog(backend: backend, durability: .normal)
        var history = RandomHistory(log: log, seed: 23)
        try await history.run(120)
        let all = try await log.database.read { db in try AuditQuery().fetch(db) }
        #expect(all.filter { $0.outcome == "appended" }.count == (try await log.eventCount()))
        #expect(all.contains { $0.outcome == "refused" }, "the history refused some commands")
        #expect(zip(all, all.dropFirst()).allSatisfy { $0.at <= $1.at }, "oldest first")
        let middle = all[all.count / 2].at
        let connection = try #require(history.connections.last)
        let cases: [(AuditQuery, (AuditEntry) -> Bool)] = [
            (AuditQuery(projectId: "globex"), { $0.projectId == "globex" }),
            (AuditQuery(connectionId: connection), { $0.connectionId == connection }),
            (AuditQuery(actorId: "carol"), { $0.actorId == "carol" }),
            (AuditQuery(action: "connection.renamed"), { $0.action == "connection.renamed" }),
            (AuditQuery(since: middle), { $0.at >= middle }),
            (AuditQuery(until: middle), { $0.at <= middle }),
            (AuditQuery(projectId: "acme", actorId: "bob", since: all[all.count / 4].at),
             { $0.projectId == "acme" && $0.actorId == "bob" && $0.at >= all[all.count / 4].at }),
            (AuditQuery(visibleProjects: ["acme"]), { $0.projectId == "acme" }),
            (AuditQuery(visibleProjects: []), { _ in false }),
        ]
        for (query, keeps) in cases {
            let filtered = try await log.database.read { db in try query.fetch(db) }
            let expected = all.filter(keeps)
            #expect(filtered == expected, "\(query)")
            #expect(!expected.isEmpty || query.visibleProjects == [], "\(query) selects something")
        }
    }

    @Test(arguments: TestBackend.available)
    func retiredReadModelsAreDroppedOnStart(backend: TestBackend) async throws {
        let log = try await TemporaryLog(backend: backend, durability: .normal)
        var history = RandomHistory(log: log, seed: 5)
        try await history.run(20)
        let before = try await log.projectionTables()
        let audit = try await log.database.read { db in try AuditQuery().fetch(db) }
        try await log.database.write { db in
            try db.execute(sql: "CREATE TABLE audit_events (position INTEGER PRIMARY KEY, detail TEXT NOT NULL)")
            try db.execute(sql: "INSERT INTO audit_events VALUES (1, 'left by an earlier credlog')")
            try db.execute(sql: "CREATE TABLE connection_name_trigrams (trigram TEXT NOT NULL, id TEXT NOT NULL)")
            try db.execute(sql: "CREATE TABLE connection_name_trigrams_state (pending INTEGER NOT NULL)")
            try db.execute(sql: "INSERT INTO projection_checkpoints (name, version, position) VALUES ('audit-trail', 1, 3)")
        }
        let runner = ProjectionRunner(database: log.database)
        #expect(try await runner.prepare() == [], "no projection that credlog keeps was reset")
        let (tableLeft, checkpoints) = try await log.database.read { db in
            (try BuiltInProjections.retired.tables.contains { try db.tableExists($0) },
             try db.fetchAll(sql: "SELECT name FROM projection_checkpoints ORDER BY name").map { try $0[0] as String })
        }
        #expect(!tableLeft)
        #expect(checkpoints == BuiltInProjections.all.map(\.name).sorted())
        #expect(try await log.projectionTables() == before)
        #expect(try await log.database.read { db in try AuditQuery().fetch(db) } == audit)
        #expect(try await runner.prepare() == [], "and the next start finds nothing to do")
    }
}
