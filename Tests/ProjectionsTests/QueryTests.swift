import CredlogDomain
import CredlogEvents
import CredlogProjections
import CredlogTestSupport
import Foundation
import Testing

@Suite("Connection list, search, pagination, reports", .serviceScope)
struct QueryTests {
    func create(_ log: TemporaryLog, _ name: String, at time: Timestamp = .now()) async throws -> String {
        try await log.createAPIKeyConnection(named: name, at: time)
    }

    func names(_ log: TemporaryLog, _ query: ConnectionList) async throws -> [String] {
        try await log.database.read { db in try query.fetch(db) }.connections.map(\.name)
    }

    static let tricky = ["Ünïcödé Straße", "ÜBER alles", "日本語の接続", "Ελληνικά Δοκιμή", "100% real", "under_score", "plain name",
                         "it's \"quoted\"", "'; DROP TABLE connections; --", "SELECT * FROM x", "Gmail - Support"]

    @Test(arguments: [
        ("straße", ["Ünïcödé Straße"]), ("ÜNÏ", ["Ünïcödé Straße"]), ("über", ["ÜBER alles"]), ("語の", ["日本語の接続"]),
        ("δοκιμή", ["Ελληνικά Δοκιμή"]), ("%", ["100% real"]), ("_", ["under_score"]), ("0% r", ["100% real"]),
        ("'", ["'; DROP TABLE connections; --", "it's \"quoted\""]), ("\"quoted\"", ["it's \"quoted\""]),
        ("drop table", ["'; DROP TABLE connections; --"]), ("select *", ["SELECT * FROM x"]), ("e", nil),
        ("nothing like this", []), ("gmail -", ["Gmail - Support"]), ("AND", []), ("*", ["SELECT * FROM x"]),
    ] as [(String, [String]?)])
    func searchFindsSubstringsWhateverTheCharacters(search: (term: String, expected: [String]?)) async throws {
        for backend in TestBackend.available { try await searchFinds(search.term, search.expected, backend) }
    }

    func searchFinds(_ term: String, _ expected: [String]?, _ backend: TestBackend) async throws {
        let log = try await TemporaryLog(backend: backend, durability: .normal)
        try await log.seedProject()
        for name in Self.tricky { _ = try await create(log, name) }
        let found = try await names(log, ConnectionList(projectId: "acme", search: term, limit: 100))
        let reference = Self.tricky.filter { $0.lowercased().contains(term.lowercased()) }
        #expect(Set(found) == Set(expected ?? reference), "search \(term) on \(backend)")
        // The plan without the trigram index (walk the name index, test each name) finds the same rows.
        var scan = ConnectionList(projectId: "acme", search: term, limit: 100)
        scan.usesTrigramIndex = false
        #expect(try await names(log, scan) == found, "both plans agree on \(term)")
        #expect(found == found.sorted { $0.lowercased() < $1.lowercased() }, "sorted by name")
        #expect(try await log.database.read { try $0.fetchValue(sql: "SELECT COUNT(*) FROM connections") as Int? } == Self.tricky.count,
                "a search never changes the table")
    }

    @Test(arguments: TestBackend.available)
    func statusFilterAndSort(backend: TestBackend) async throws {
        let log = try await TemporaryLog(backend: backend, durability: .normal)
        try await log.seedProject()
        let base = Timestamp(microseconds: Timestamp.now().microseconds + 86_400_000_000)
        let a = try await create(log, "Beta", at: base)
        _ = try await create(log, "alpha", at: Timestamp(microseconds: base.microseconds + 60_000_000))
        _ = try await create(log, "Gamma", at: Timestamp(microseconds: base.microseconds + 120_000_000))
        _ = try await log.service.expire(a, reason: "token expired", context: CommandContext(principal: .engine))
        #expect(try await names(log, ConnectionList(projectId: "acme")) == ["alpha", "Beta", "Gamma"])
        #expect(try await names(log, ConnectionList(projectId: "acme", status: .active)) == ["alpha", "Gamma"])
        #expect(try await names(log, ConnectionList(projectId: "acme", status: .inactive)) == ["Beta"])
        #expect(try await names(log, ConnectionList(projectId: "acme", sort: .connectedOn)) == ["Gamma", "alpha", "Beta"])
        #expect(try await names(log, ConnectionList(projectId: "globex")) == [])
    }

    @Test(arguments: TestBackend.available, [ConnectionList.Sort.name, .connectedOn])
    func paginationNeverRepeatsOrSkipsWhileConnectionsAreAdded(backend: TestBackend, sort: ConnectionList.Sort) async throws {
        let log = try await TemporaryLog(backend: backend, durability: .normal)
        try await log.seedProject()
        var random = SeededRandom(seed: 7)
        var original: [String] = []
        var clock = Timestamp(microseconds: Timestamp.now().microseconds + 86_400_000_000)
        for n in 0..<60 {
            clock = Timestamp(microseconds: clock.microseconds + 1_000_000 * Int64(n % 3))  // ties in connected_at, broken by id
            original.append(try await create(log, "conn \(UInt32.random(in: 0...999, using: &random))", at: clock))
        }
        var seen: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            let page = try await log.database.read { [cursor] db in
                try ConnectionList(projectId: "acme", sort: sort, limit: 7, after: cursor).fetch(db)
            }
            seen += page.connections.map(\.id)
            cursor = page.nextCursor
            pages += 1
            // Others keep adding connections between pages, named all over the alphabet.
            for _ in 0..<3 {
                clock = Timestamp(microseconds: clock.microseconds + 1_000_000)
                _ = try await create(log, "conn \(UInt32.random(in: 0...999, using: &random))", at: clock)
            }
        } while cursor != nil && pages < 100
        #expect(Set(seen).count == seen.count, "no row repeated")
        #expect(Set(original).isSubset(of: Set(seen)), "no original row skipped")
    }

    @Test(arguments: TestBackend.available)
    func aForeignOrMalformedCursorIsAClearError(backend: TestBackend) async throws {
        let log = try await TemporaryLog(backend: backend, durability: .normal)
        try await log.seedProject()
        for n in 0..<3 { _ = try await create(log, "c\(n)") }
        let page = try await log.database.read { db in try ConnectionList(projectId: "acme", limit: 1).fetch(db) }
        let cursor = try #require(page.nextCursor)
        await #expect(throws: DomainError.self) {
            _ = try await log.database.read { db in try ConnectionList(projectId: "acme", sort: .connectedOn, after: cursor).fetch(db) }
        }
        await #expect(throws: DomainError.self) {
            _ = try await log.database.read { db in try ConnectionList(projectId: "acme", after: "garbage!").fetch(db) }
        }
    }

    @Test func csvFollowsRFC4180() throws {
        let text = try ReportFormat.csv.render(columns: ["a", "b", "c"], rows: [["x,y", "say \"hi\"", "two\r\nlines"], ["plain", nil, "é"]])
        #expect(text == "a,b,c\r\n\"x,y\",\"say \"\"hi\"\"\",\"two\r\nlines\"\r\nplain,,é\r\n")
    }

    @Test(arguments: TestBackend.available)
    func reportsHaveTheirDocumentedColumnsInEveryFormat(backend: TestBackend) async throws {
        let log = try await TemporaryLog(backend: backend, durability: .normal)
        try await log.seedProject()
        let id = try await create(log, "Comma, \"Quoted\"")
        _ = try await log.service.attach(flow: "flow-1", to: id, context: CommandContext(principal: .member("bob")))
        for report in Report.allCases {
            let rows = try await log.database.read { db in try report.rows(db, projects: ["acme"]) }
            #expect(!rows.isEmpty, "\(report)")
            #expect(rows.allSatisfy { $0.count == report.columns.count })
            let json = try ReportFormat.json.render(columns: report.columns, rows: rows)
            let objects = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
            #expect(objects.count == rows.count && objects.allSatisfy { Set($0.keys) == Set(report.columns) })
            let lines = try ReportFormat.jsonl.render(columns: report.columns, rows: rows).split(separator: "\n")
            #expect(lines.count == rows.count)
            let csv = try ReportFormat.csv.render(columns: report.columns, rows: rows)
            #expect(csv.hasPrefix(report.columns.joined(separator: ",") + "\r\n"))
        }
        let hidden = try await log.database.read { db in try Report.connections.rows(db, projects: ["globex"]) }
        #expect(hidden.isEmpty, "another project's rows are not reported")
    }
}

/// The name trigrams wait while a non-empty log is replayed, and are made in one pass at the end.
@Suite("Deferred name trigrams", .serviceScope)
struct DeferredTrigramTests {
    func create(_ log: TemporaryLog, _ name: String) async throws {
        try await log.createAPIKeyConnection(named: name, piece: "acme-crm", by: "alice")
    }

    func names(_ log: TemporaryLog, _ term: String) async throws -> [String] {
        try await log.database.read { db in try ConnectionList(projectId: "acme", search: term).fetch(db).connections.map(\.name) }
    }

    @Test(arguments: TestBackend.available)
    func anInterruptedReplayMakesTheTrigramsOnTheNextCatchUp(backend: TestBackend) async throws {
        let log = try await TemporaryLog(backend: backend, durability: .normal)
        try await log.seedProject()
        try await create(log, "Slack - Ops")
        try await create(log, "Gmail - Support")
        try await create(log, "Ünïcödé Straße 日本語の接続 e\u{301}")
        let incremental = try await log.projectionTables()
        // As a replay leaves it when stopped before its end: trigrams waiting, none made yet.
        try await log.database.write { db in
            try db.executeScript("UPDATE connection_name_trigrams_state SET pending = 1; DELETE FROM connection_name_trigrams")
        }
        #expect(try await names(log, "slack").isEmpty, "while they wait, search finds nothing")
        try await create(log, "Slack - Sales") // appended meanwhile: its trigrams wait too
        #expect(try await names(log, "slack").isEmpty)
        try await ProjectionRunner(database: log.database).catchUp()
        #expect(try await names(log, "slack") == ["Slack - Ops", "Slack - Sales"])
        #expect(try await names(log, "ops") == ["Slack - Ops"])
        // The one-pass trigrams (SQL) equal those made row by row (Swift), row for row.
        try await ProjectionRunner(database: log.database).rebuild()
        let rebuilt = try await log.projectionTables()
        let log2 = try await TemporaryLog(backend: backend, durability: .normal)
        try await log2.seedProject()
        for name in ["Slack - Ops", "Gmail - Support", "Ünïcödé Straße 日本語の接続 e\u{301}", "Slack - Sales"] {
            try await create(log2, name)
        }
        #expect(try await names(log, "語の接") == ["Ünïcödé Straße 日本語の接続 e\u{301}"])
        let trigrams = { (tables: [String: [[String]]]) in tables["connection_name_trigrams"]?.map { Array($0[1...2]) } }
        #expect(trigrams(rebuilt) == trigrams(try await log2.projectionTables()))
        #expect(rebuilt["connection_name_trigrams_state"] == incremental["connection_name_trigrams_state"])
    }
}
