import CredlogDomain
import CredlogEvents
import CredlogProjections
import CredlogTestSupport
import Testing

/// The audit trail read a page at a time: over ten thousand entries (events, refusals and
/// credential reads, many at the same instant), the pages of every size, filter and order
/// hold exactly the entries of one unpaged read, each once, and a page never exceeds its limit.
@Suite("Audit paging", .serviceScope)
struct AuditPagingTests {
    /// A random history, then refusals and credential reads among its events (a third of them at
    /// the very instant of an event), rewritten so that each table's row ids follow time as a
    /// server writes them.
    func busyTrail(_ backend: TestBackend) async throws -> (TemporaryLog, connections: [String]) {
        let log = try await TemporaryLog(backend: backend, durability: .normal)
        var history = RandomHistory(log: log, seed: 41)
        try await history.run(150)
        var random = SeededRandom(seed: 7)
        let connections = history.connections
        let (times, refusals) = try await log.database.read { db in
            (try db.fetchAll(sql: "SELECT recorded_at FROM events ORDER BY position", arguments: []).map { try $0[0] as String },
             try db.fetchAll(sql: """
                SELECT recorded_at, actor_id, actor_role, project_id, stream_id, command, reason, correlation_id FROM refusals
                """, arguments: []))
        }
        var rows: [(at: String, values: SQLArguments)] = try refusals.map { row in
            (try row[0] as String, SQLArguments((0..<8).map { row.values[$0] }))
        }
        var reads: [(at: String, values: SQLArguments)] = []
        for index in 0..<10_000 {
            let base = times[Int.random(in: 0..<times.count, using: &random)]
            let at = index % 3 == 0 ? base : Timestamp(microseconds: Timestamp(iso8601: base)!.microseconds + Int64.random(in: 1...900_000, using: &random) * 1_000).iso8601
            let project = RandomHistory.projects[index % 2]
            let connection = connections[Int.random(in: 0..<connections.count, using: &random)]
            if index % 2 == 0 {
                rows.append((at, [at, "mallory", "outsider", project, StreamID.connection(connection).rawValue, "connection.rename",
                                  "not a member of \(project)", "c-\(index)"]))
            } else {
                reads.append((at, [at, "engine", project, connection, Int64(index % 5 + 1), "run-\(index)", index % 4 == 1 ? "http" : "cli"]))
            }
        }
        try await log.database.write { [rows, reads] db in
            try db.execute(sql: "DELETE FROM refusals", arguments: [])
            for row in rows.sorted(by: { $0.at.utf8.lexicographicallyPrecedes($1.at.utf8) }) {
                try db.execute(sql: """
                    INSERT INTO refusals (recorded_at, actor_id, actor_role, project_id, stream_id, command, reason, correlation_id)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: row.values)
            }
            for row in reads.sorted(by: { $0.at.utf8.lexicographicallyPrecedes($1.at.utf8) }) {
                try db.execute(sql: """
                    INSERT INTO credential_reads (recorded_at, actor_id, project_id, connection_id, credential_version, correlation_id, via)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, arguments: row.values)
            }
        }
        return (log, connections)
    }

    /// Every page of `query` with `limit`, following the cursors to the end.
    func pages(_ query: AuditQuery, limit: Int, _ log: TemporaryLog) async throws -> [[AuditEntry]] {
        var pages: [[AuditEntry]] = []
        var paged = query
        paged.limit = limit
        while true {
            let page = try await log.database.read { [paged] db in try paged.page(db) }
            pages.append(page.entries)
            guard let next = page.nextCursor else { return pages }
            #expect(!page.entries.isEmpty, "a page that promises more is not empty")
            paged.after = next
            try #require(pages.count <= 20_000, "the cursors end")
        }
    }

    @Test(arguments: TestBackend.available)
    func pagesReadInTurnEqualOneUnpagedRead(backend: TestBackend) async throws {
        let (log, connections) = try await busyTrail(backend)
        let all = try await log.database.read { db in try AuditQuery().fetch(db) }
        #expect(all.count >= 10_000)
        #expect(zip(all, all.dropFirst()).allSatisfy { !$1.at.utf8.lexicographicallyPrecedes($0.at.utf8) }, "oldest first")
        #expect(Set(all.map(\.outcome)) == ["appended", "refused", "read"])
        let newest = try await log.database.read { db in try AuditQuery(newestFirst: true).fetch(db) }
        #expect(newest == all.reversed(), "newest first is the same trail reversed")

        for limit in [1_000, 337, 29] {
            let paged = try await pages(AuditQuery(), limit: limit, log)
            #expect(paged.allSatisfy { $0.count <= limit }, "no page exceeds \(limit)")
            #expect(Array(paged.joined()) == all, "\(limit) a page")
        }
        let connection = connections[connections.count / 2]
        let filters: [AuditQuery] = [
            AuditQuery(projectId: "acme"), AuditQuery(connectionId: connection), AuditQuery(actorId: "engine"),
            AuditQuery(action: "connection.rename"), AuditQuery(since: all[all.count / 3].at, until: all[2 * all.count / 3].at),
            AuditQuery(visibleProjects: ["globex"]),
        ]
        // One entry a page, through one connection's trail.
        let one = try await log.database.read { db in try AuditQuery(connectionId: connection).fetch(db) }
        #expect(Array(try await pages(AuditQuery(connectionId: connection), limit: 1, log).joined()) == one)
        for filter in filters {
            let whole = try await log.database.read { db in try filter.fetch(db) }
            #expect(!whole.isEmpty && whole.count < all.count, "\(filter) selects some")
            #expect(Array(try await pages(filter, limit: 250, log).joined()) == whole, "\(filter)")
            var newestFilter = filter
            newestFilter.newestFirst = true
            #expect(Array(try await pages(newestFilter, limit: 250, log).joined()) == whole.reversed(), "\(filter), newest first")
        }
    }

    @Test func aCursorNotIssuedForThisOrderIsRefused() async throws {
        let log = try await TemporaryLog()
        var history = RandomHistory(log: log, seed: 3)
        try await history.run(10)
        var oldest = AuditQuery(limit: 2)
        let first = try await log.database.read { [oldest] db in try oldest.page(db) }
        let cursor = try #require(first.nextCursor)
        var newest = AuditQuery(limit: 2, after: cursor, newestFirst: true)
        for bad in [cursor, "1-2", "a-b-c", "-1-0-0", String(repeating: "9", count: 80) + "-0-0", "n1-2-3-4", ""] {
            newest.after = bad
            await #expect(throws: DomainError.self, "\(bad)") { try await log.database.read { [newest] db in try newest.page(db) } }
        }
        oldest.after = "n" + cursor
        await #expect(throws: DomainError.self) { try await log.database.read { [oldest] db in try oldest.page(db) } }
    }
}
