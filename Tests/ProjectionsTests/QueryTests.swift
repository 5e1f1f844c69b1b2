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
        // The plan without the name index (walk the sort index, test each name) finds the same rows.
        var scan = ConnectionList(projectId: "acme", search: term, limit: 100)
        scan.usesNameIndex = false
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

    @Test(arguments: TestBackend.available, ConnectionList.Sort.allCases)
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

    /// The piece filter and the active-first order, page by page and with a search, give exactly
    /// the rows the same rules select and order in Swift from the whole table.
    @Test(arguments: TestBackend.available)
    func pieceFilterAndActiveFirstOrderEqualTheSameRulesInSwift(backend: TestBackend) async throws {
        let log = try await TemporaryLog(backend: backend, durability: .normal)
        try await log.seedProject()
        var random = SeededRandom(seed: 11)
        let pieces = ["hubspot", "openai", "stripe"]
        for n in 0..<45 {
            let piece = pieces[Int(UInt32.random(in: 0...2, using: &random))]
            let id = try await log.createAPIKeyConnection(named: "\(["Sales", "ops", "Billing"][n % 3]) \(UInt32.random(in: 0...99, using: &random))",
                                                          piece: piece)
            if UInt32.random(in: 0...2, using: &random) == 0 {
                _ = try await log.service.expire(id, reason: "token expired", context: CommandContext(principal: .engine))
            }
        }
        let all = try await log.database.read { db in
            try ConnectionList(projectId: "acme", limit: ConnectionList.maxLimit).fetch(db)
        }.connections
        #expect(all.count == 45)
        for chosen in [["openai"], ["stripe", "hubspot"], ["openai", "openai"], ["gmail"], []] {
            for term in ["", "sales", "1"] {
                let expected = all.filter { (chosen.isEmpty || chosen.contains($0.piece)) && (term.isEmpty || $0.name.lowercased().contains(term)) }
                    .sorted { ($0.status.rawValue, $0.name.lowercased(), $0.id) < ($1.status.rawValue, $1.name.lowercased(), $1.id) }  // ASCII names
                var paged: [ConnectionSummary] = []
                var cursor: String?
                repeat {
                    let list = ConnectionList(projectId: "acme", search: term, pieces: chosen, sort: .activeFirst, limit: 4, after: cursor)
                    let page = try await log.database.read { [list] db in try list.fetch(db) }
                    #expect(page.connections.count <= 4)
                    paged += page.connections
                    cursor = page.nextCursor
                } while cursor != nil
                #expect(paged.map(\.id) == expected.map(\.id), "pieces \(chosen), term '\(term)'")
                #expect(paged.first.map { $0.status == .active } ?? true || !expected.contains { $0.status == .active })
            }
        }
        // Bad pieces are refused with a reason, and change nothing.
        let before = try await log.projectionTables()
        for bad in [["Gmail"], ["gm ail"], [""], Array(repeating: "x", count: ConnectionList.maxPieces + 1).enumerated().map { "p\($0.offset)" }] {
            await #expect(throws: DomainError.self, "\(bad)") {
                _ = try await log.database.read { db in try ConnectionList(projectId: "acme", pieces: bad).fetch(db) }
            }
        }
        #expect(try await log.projectionTables() == before)
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
            let rows = try await report.rows(of: log.database, asOf: nil, projects: ["acme"])
            #expect(!rows.isEmpty, "\(report)")
            // Streamed in batches of one or two rows, every format writes what it renders at once.
            for format in ReportFormat.allCases {
                for batchSize in [1, 2] {
                    var streamed = ""
                    try await report.write(format, of: log.database, asOf: nil, projects: ["acme"], batchSize: batchSize) { streamed += $0 }
                    #expect(streamed == (try format.render(columns: report.columns, rows: rows)), "\(report) \(format) \(batchSize)")
                }
            }
            #expect(rows.allSatisfy { $0.count == report.columns.count })
            let json = try ReportFormat.json.render(columns: report.columns, rows: rows)
            let objects = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
            #expect(objects.count == rows.count && objects.allSatisfy { Set($0.keys) == Set(report.columns) })
            let lines = try ReportFormat.jsonl.render(columns: report.columns, rows: rows).split(separator: "\n")
            #expect(lines.count == rows.count)
            let csv = try ReportFormat.csv.render(columns: report.columns, rows: rows)
            #expect(csv.hasPrefix(report.columns.joined(separator: ",") + "\r\n"))
        }
        let hidden = try await Report.connections.rows(of: log.database, asOf: nil, projects: ["globex"])
        #expect(hidden.isEmpty, "another project's rows are not reported")
    }
}

/// The name index is a cache of the connections table: it follows what happens after it was
/// built (creations, renames, deletions, other projects, a rebuild), and always answers what the
/// plan without it answers.
@Suite("Name index", .serviceScope)
struct NameIndexTests {
    @Test(arguments: TestBackend.available, [20_000, 1] as [Int64])
    func theIndexFollowsTheTableAndAgreesWithTheWalk(backend: TestBackend, maxCatchUp: Int64) async throws {
        let log = try await TemporaryLog(backend: backend, durability: .normal)
        try await log.seedProject()
        try await log.seedProject("globex")
        let names = NameSearchIndex(maxCatchUp: maxCatchUp)
        func search(_ term: String, in project: String = "acme") async throws -> [String] {
            let (indexed, walked) = try await log.database.read { db in
                var walk = ConnectionList(projectId: project, search: term, limit: 100)
                walk.usesNameIndex = false
                return (try ConnectionList(projectId: project, search: term, limit: 100).fetch(db, names: names).connections.map(\.name),
                        try walk.fetch(db).connections.map(\.name))
            }
            #expect(indexed == walked, "the index and the walk agree on \(term)")
            return indexed
        }
        let ops = try await log.createAPIKeyConnection(named: "Slack - Ops")
        _ = try await log.createAPIKeyConnection(named: "Gmail - Support")
        #expect(try await search("slack") == ["Slack - Ops"])
        let sales = try await log.createAPIKeyConnection(named: "Slack - Sales")
        #expect(try await search("slack") == ["Slack - Ops", "Slack - Sales"])
        let admin = CommandContext(principal: .member("alice"))
        _ = try await log.service.rename(ops, to: "Teams - Ops", context: admin)
        #expect(try await search("slack") == ["Slack - Sales"])
        #expect(try await search("teams") == ["Teams - Ops"])
        _ = try await log.service.delete(sales, context: admin)
        #expect(try await search("slack") == [])
        var secret = Array(#"{"apiKey":"k"}"#.utf8)
        _ = try await log.service.createConnection(projectId: "globex", piece: "hubspot", authType: .apiKey, name: "Slack globex",
                                                   credentials: &secret, context: CommandContext(principal: .member("bob")))
        #expect(try await search("slack") == [], "another project's names stay there")
        #expect(try await search("slack", in: "globex") == ["Slack globex"])
        try await ProjectionRunner(database: log.database).rebuild()
        #expect(try await search("ops") == ["Teams - Ops"])
        #expect(try await search("gmail") == ["Gmail - Support"])
        #expect(try await search("zzz") == [])
    }

    /// Paging through a search, with every status filter and both orders: the index's plan and
    /// the walk give the same pages, and together every match once.
    @Test(arguments: TestBackend.available)
    func pagesThroughTheIndexEqualPagesThroughTheWalk(backend: TestBackend) async throws {
        let log = try await TemporaryLog(backend: backend, durability: .normal)
        try await log.seedProject()
        let base = Timestamp(microseconds: Timestamp.now().microseconds + 86_400_000_000)
        var expired: Set<String> = []
        for n in 0..<40 {
            let name = n % 5 == 0 ? "Other \(n)" : "Team \((n * 17) % 40) \(n % 3 == 0 ? "eu" : "us")"
            let id = try await log.createAPIKeyConnection(named: name, at: Timestamp(microseconds: base.microseconds + Int64(n % 7) * 1_000_000))
            if n % 3 == 1 {
                _ = try await log.service.expire(id, reason: "token expired", context: CommandContext(principal: .engine))
                expired.insert(name)
            }
        }
        let names = NameSearchIndex()
        func pages(_ list: ConnectionList, index: Bool) async throws -> [[String]] {
            var list = list
            list.usesNameIndex = index
            var pages: [[String]] = []
            repeat {
                let page = try await log.database.read { [list] db in try list.fetch(db, names: names) }
                pages.append(page.connections.map(\.name))
                list.after = page.nextCursor
            } while list.after != nil
            return pages
        }
        for sort in ConnectionList.Sort.allCases {
            for status in ConnectionList.StatusFilter.allCases {
                let list = ConnectionList(projectId: "acme", status: status, search: "team", sort: sort, limit: 7)
                let indexed = try await pages(list, index: true)
                #expect(indexed == (try await pages(list, index: false)), "\(sort) \(status)")
                let all = indexed.flatMap { $0 }
                #expect(Set(all).count == all.count && indexed.allSatisfy { $0.count <= 7 })
                let teams = (0..<40).filter { $0 % 5 != 0 }.count
                let inactive = expired.filter { $0.hasPrefix("Team") }.count
                #expect(all.count == [.all: teams, .active: teams - inactive, .inactive: inactive, .expiring: 0][status], "\(sort) \(status)")
            }
        }
    }
}

