import CredlogDomain
import CredlogEvents
import CredlogProjections
import CredlogTestSupport
import Foundation
import HTTPTypes
import Testing

/// `GET /v1/events` (the feed by position), and the paged audit trail and status history: what
/// a page holds, that following the cursors reads everything once, that a member of another
/// project sees none of acme's, and that bad positions, limits and cursors are a 400 or 422.
@Suite("API: feed and paging", .serviceScope)
struct APIFeedAndPagingTests {
    /// Every page of `path` (with `?limit=` already in it), following `cursor` as `after`.
    func follow(_ api: APIClient, _ path: String, token: String, items: String, cursor: String,
                limit: Int) async throws -> [[String: Any]] {
        var all: [[String: Any]] = []
        var after: String?
        for _ in 0..<10_000 {
            let response = try await api.call(.get, path + (after.map { "&after=\($0)" } ?? ""), token: token)
            try #require(response.status == 200, "\(response.text)")
            let page = try #require(response.object[items] as? [[String: Any]])
            #expect(page.count <= limit)
            all += page
            if cursor == "nextAfter" {
                let next = try #require(response.object["nextAfter"] as? Int)
                if page.isEmpty { return all }
                after = String(next)
            } else {
                guard let next = response.object[cursor] as? String else { return all }
                after = next
            }
        }
        Issue.record("the pages of \(path) never ended")
        return all
    }

    @Test func theFeedIsTheProjectsEventsInOrderPageByPage() async throws {
        let fixture = try await APIFixture()
        let gmail = try await fixture.createConnection(name: "Gmail")
        _ = try await fixture.createConnection(name: "Slack", project: "globex", by: "carol")
        for round in 0..<7 { _ = try await fixture.log.service.rename(gmail, to: "Gmail \(round)", context: CommandContext(principal: .member("alice"))) }
        let log = try await fixture.events()
        try await fixture.test { api in
            let acme = try await follow(api, "/v1/events?limit=3", token: fixture.bob, items: "events", cursor: "nextAfter", limit: 3)
            #expect(acme.map { $0["position"] as? Int64 ?? Int64($0["position"] as? Int ?? -1) }
                    == log.filter { $0.projectId == "acme" }.map(\.position))
            #expect(acme.allSatisfy { $0["project"] as? String == "acme" })
            #expect(acme.compactMap { $0["type"] as? String }.filter { $0 == "connection.renamed" }.count == 7)
            let globex = try await follow(api, "/v1/events?limit=1000", token: fixture.carol, items: "events", cursor: "nextAfter", limit: 1000)
            #expect(!globex.isEmpty && globex.allSatisfy { $0["project"] as? String == "globex" }, "carol sees globex only")
            let middle = try #require(log.filter { $0.projectId == "acme" }.dropFirst(4).first?.position)
            let rest = try await api.call(.get, "/v1/events?after=\(middle)", token: fixture.bob)
            #expect((rest.object["events"] as? [[String: Any]])?.count == log.filter { $0.projectId == "acme" && $0.position > middle }.count)
            let past = try await api.call(.get, "/v1/events?after=\(Int64.max)", token: fixture.bob)
            #expect(past.status == 200 && (past.object["events"] as? [Any])?.isEmpty == true && past.object["nextAfter"] as? Int64 == Int64.max)
            for bad in ["after=-1", "after=1.5", "after=x", "limit=0", "limit=1001", "limit=x"] {
                let response = try await api.call(.get, "/v1/events?\(bad)", token: fixture.bob)
                #expect(response.status == 400 && response.isProblem, "\(bad)")
            }
            #expect(try await api.call(.get, "/v1/events").status == 401)
        }
    }

    @Test func theAuditAndTheHistoryAreBoundedPagesThatReadEverythingOnce() async throws {
        let fixture = try await APIFixture()
        let gmail = try await fixture.createConnection(name: "Gmail")
        for round in 0..<70 {
            let context = CommandContext(principal: .member(round % 5 == 0 ? "bob" : "alice"))
            _ = try await fixture.log.service.expire(gmail, reason: "lapsed \(round)", context: CommandContext(principal: .engine))
            var secret = Array(#"{"apiKey":"k-\#(round)"}"#.utf8)
            _ = try? await fixture.log.service.reconnect(gmail, credentials: &secret, context: context)
        }
        try await fixture.test { api in
            let whole = try await api.call(.get, "/v1/audit?limit=1000", token: fixture.alice)
            let all = try #require(whole.object["entries"] as? [[String: Any]])
            #expect(whole.object["nextCursor"] == nil && all.count > 100)
            #expect(all.contains { $0["outcome"] as? String == "refused" }, "bob's tries were refused")
            let first = try await api.call(.get, "/v1/audit", token: fixture.alice)
            #expect((first.object["entries"] as? [Any])?.count == 100 && first.object["nextCursor"] is String, "100 by default")
            let keys = { (entries: [[String: Any]]) in entries.map { "\($0["at"] ?? "")|\($0["position"] ?? "-")|\($0["action"] ?? "")" } }
            let paged = try await follow(api, "/v1/audit?limit=7", token: fixture.alice, items: "entries", cursor: "nextCursor", limit: 7)
            #expect(keys(paged) == keys(all))
            let newest = try await follow(api, "/v1/audit?limit=9&order=newest", token: fixture.alice, items: "entries",
                                          cursor: "nextCursor", limit: 9)
            #expect(keys(newest) == keys(all).reversed())

            let history = try await follow(api, "/v1/connections/\(gmail)/history?limit=4", token: fixture.bob, items: "changes",
                                           cursor: "nextCursor", limit: 4)
            let expected = try await fixture.log.database.read { db in try StatusHistoryQuery.history(of: gmail, db) }
            #expect(history.compactMap { $0["position"] as? Int64 ?? ($0["position"] as? Int).map(Int64.init) } == expected.map(\.position))
            #expect(expected.count > 100)
            let firstHistory = try await api.call(.get, "/v1/connections/\(gmail)/history", token: fixture.bob)
            #expect((firstHistory.object["changes"] as? [Any])?.count == 100)

            for bad in ["/v1/audit?limit=0", "/v1/audit?limit=1001", "/v1/audit?order=sideways", "/v1/connections/\(gmail)/history?limit=5000"] {
                let response = try await api.call(.get, bad, token: fixture.alice)
                #expect(response.status == 400 && response.isProblem, "\(bad)")
            }
            for bad in ["/v1/audit?after=garbage", "/v1/audit?order=newest&after=\(first.object["nextCursor"] as? String ?? "")",
                        "/v1/connections/\(gmail)/history?after=-3", "/v1/connections/\(gmail)/history?after=\(String(repeating: "9", count: 30))"] {
                let response = try await api.call(.get, bad, token: fixture.alice)
                #expect(response.status == 422 && response.isProblem && (response.object["detail"] as? String)?.contains("cursor") == true,
                        "\(bad): \(response.status)")
            }
            let outsider = try await api.call(.get, "/v1/audit?limit=1000", token: fixture.carol)
            #expect((outsider.object["entries"] as? [[String: Any]])?.allSatisfy { $0["projectId"] as? String == "globex" } == true)
        }
    }

    @Test func aConnectionsFlowsAndAFlowsConnectionsComeInBoundedPages() async throws {
        let link = HTTPField.Name("Link")!
        let fixture = try await APIFixture()
        let id = try await fixture.createConnection()
        let others = [try await fixture.createConnection(name: "CRM 2"), try await fixture.createConnection(name: "CRM 3")]
        let flows = (0..<250).map { String(format: "flow-%03d", $0) }
        for flow in flows { _ = try await fixture.log.service.attach(flow: flow, to: id, context: CommandContext(principal: .member("alice"))) }
        for other in others { _ = try await fixture.log.service.attach(flow: "flow-000", to: other, context: CommandContext(principal: .member("alice"))) }
        try await fixture.test { api in
            var seen: [String] = []
            var next: String? = "/v1/connections/\(id)/flows?limit=100"
            var pages = 0
            while let path = next {
                let page = try await api.call(.get, path, token: fixture.bob)
                #expect(page.status == 200 && page.array.count <= 100)
                seen += page.array.compactMap { $0["flowId"] as? String }
                next = page.headers[link].flatMap { $0.firstMatch(of: /<([^>]+)>; rel="next"/).map { String($0.1) } }
                pages += 1
                if pages > 10 { break }
            }
            #expect(pages == 3 && seen == flows, "every flow once, in order, in three pages")
            let unbounded = try await api.call(.get, "/v1/connections/\(id)/flows", token: fixture.bob)
            #expect(unbounded.array.count == 100 && unbounded.headers[link] != nil, "100 by default")
            let ofFlow = try await api.call(.get, "/v1/flows/flow-000/connections?limit=2", token: fixture.bob)
            let rest = try await api.call(.get, try #require(ofFlow.headers[link]?.firstMatch(of: /<([^>]+)>/).map { String($0.1) }), token: fixture.bob)
            #expect(Set((ofFlow.array + rest.array).compactMap { $0["connectionId"] as? String }) == Set([id] + others))
            #expect(ofFlow.array.count == 2 && rest.array.count == 1 && rest.headers[link] == nil)
            for bad in ["limit=0", "limit=1001", "after=" + String(repeating: "x", count: 201)] {
                #expect(try await api.call(.get, "/v1/connections/\(id)/flows?\(bad)", token: fixture.bob).status == 400, "\(bad)")
            }
            let cookie = String(try #require(try await api.call(.post, "/login", form: "token=" + fixture.bob).headers[.setCookie])
                .split(separator: ";")[0])
            let page = try await api.call(.get, "/flows?connection=\(id)", headers: [.cookie: cookie])
            #expect(page.text.components(separatedBy: "<code>flow-").count - 1 == 100 && page.text.contains("after=flow-099"))
        }
    }
}
