import CredlogDomain
import CredlogEvents
import CredlogProjections
import Foundation
import Hummingbird
import Testing

/// The connection endpoints: create, list, read (now and in the past), change, with ETags,
/// If-Match, Idempotency-Key and every error status; a refused request changes nothing.
@Suite("API: connections")
struct APIConnectionTests {
    static let gmail = #"{"piece":"gmail","authType":"oauth2","name":"Gmail - Support","credentials":{"accessToken":"ya29.a"}}"#

    @Test func createListShowAndRenameWithETags() async throws {
        let fixture = try await APIFixture()
        try await fixture.test { api in
            let created = try await api.call(.post, "/v1/connections", token: fixture.bob, json: Self.gmail)
            #expect(created.status == 201)
            let id = try #require(created.object["connectionId"] as? String)
            #expect(created.headers[.location] == "/v1/connections/\(id)")
            #expect(created.headers[.eTag] == "\"v1\"")

            let list = try await api.call(.get, "/v1/connections?status=active&search=gmail", token: fixture.bob)
            let rows = try #require(list.object["connections"] as? [[String: Any]])
            #expect(rows.map { $0["id"] as? String } == [id])
            #expect(rows.first?["flowCount"] as? Int == 0, "keys are camelCase")
            let inactive = try await api.call(.get, "/v1/connections?status=inactive", token: fixture.bob)
            #expect((inactive.object["connections"] as? [Any])?.isEmpty == true)

            let shown = try await api.call(.get, "/v1/connections/\(id)", token: fixture.bob)
            #expect(shown.headers[.eTag] == "\"v1\"")
            #expect(shown.object["name"] as? String == "Gmail - Support")
            #expect(shown.object["status"] as? String == "Active")

            let renamed = try await api.call(.post, "/v1/connections/\(id)/rename", token: fixture.alice,
                                             json: #"{"name":"Gmail - Sales"}"#, headers: [.ifMatch: "\"v1\""])
            #expect(renamed.status == 200)
            #expect(renamed.headers[.eTag] == "\"v2\"")
            #expect(renamed.object["changed"] as? Bool == true)
            let same = try await api.call(.post, "/v1/connections/\(id)/rename", token: fixture.alice, json: #"{"name":"Gmail - Sales"}"#)
            #expect(same.object["changed"] as? Bool == false, "renaming to the same name appends nothing")
            #expect(same.headers[.eTag] == "\"v2\"")
        }
    }

    @Test func aStaleIfMatchIs412WithTheCurrentVersionAndChangesNothing() async throws {
        let fixture = try await APIFixture()
        let id = try await fixture.createConnection()
        try await fixture.test { api in
            _ = try await api.call(.post, "/v1/connections/\(id)/rename", token: fixture.alice, json: #"{"name":"B"}"#)
            let before = try await fixture.events()
            let stale = try await api.call(.post, "/v1/connections/\(id)/rename", token: fixture.alice,
                                           json: #"{"name":"C"}"#, headers: [.ifMatch: "\"v1\""])
            #expect(stale.status == 412)
            #expect(stale.isProblem)
            #expect(stale.object["currentVersion"] as? Int == 2)
            let malformed = try await api.call(.post, "/v1/connections/\(id)/rename", token: fixture.alice,
                                               json: #"{"name":"C"}"#, headers: [.ifMatch: "W/\"v2\""])
            #expect(malformed.status == 400)
            #expect(try await fixture.events() == before)
        }
    }

    @Test func anIdempotencyKeyAppendsOnceAndARetryGetsTheFirstResult() async throws {
        let fixture = try await APIFixture()
        try await fixture.test { api in
            let key: HTTPFields = [.init("Idempotency-Key")!: "create-gmail-1"]
            let first = try await api.call(.post, "/v1/connections", token: fixture.alice, json: Self.gmail, headers: key)
            let count = try await fixture.events().count
            let retry = try await api.call(.post, "/v1/connections", token: fixture.alice, json: Self.gmail, headers: key)
            #expect(first.status == 201 && retry.status == 201)
            #expect(retry.object["connectionId"] as? String == first.object["connectionId"] as? String)
            #expect(retry.object["replayed"] as? Bool == true)
            #expect(try await fixture.events().count == count, "the retry appended nothing")
            let reused = try await api.call(.post, "/v1/connections", token: fixture.alice,
                                            json: Self.gmail.replacingOccurrences(of: "Support", with: "Other"), headers: key)
            #expect(reused.status == 422)
            #expect(try await fixture.events().count == count)
            // Keys are scoped to the token: bob's same key is his own request.
            let bobs = try await api.call(.post, "/v1/connections", token: fixture.bob, json: Self.gmail, headers: key)
            #expect(bobs.status == 201)
            #expect(bobs.object["connectionId"] as? String != first.object["connectionId"] as? String)
        }
    }

    @Test(arguments: [
        (#"{"piece":"gmail","authType":"oauth2","name":"G","credentials":{"accessToken":""}}"#, 422, "an empty access token"),
        (#"{"piece":"gmail","authType":"smoke-signals","name":"G","credentials":{}}"#, 422, "an unknown auth type"),
        (#"{"piece":"gmail","authType":"api-key","name":"","credentials":{"apiKey":"k"}}"#, 422, "an empty name"),
        (#"{"piece":"gmail","authType":"api-key","credentials":{"apiKey":"k"}}"#, 422, "no name"),
        (#"{"piece":"gmail","authType":"api-key","name":"G","credentials":{"apiKey":"k","extra":"x"}}"#, 422, "a foreign field"),
        (#"{"piece":"gmail","authType":"api-key","name":42,"credentials":{"apiKey":"k"}}"#, 422, "a number for a name"),
        (#"{"piece": "gmail", "#, 400, "truncated JSON"),
        ("not json at all", 400, "not JSON"),
    ])
    func badInputGetsAClearProblemAndChangesNothing(body: String, status: Int, what: String) async throws {
        let fixture = try await APIFixture()
        try await fixture.test { api in
            let before = try await fixture.events()
            let response = try await api.call(.post, "/v1/connections", token: fixture.alice, json: body)
            #expect(response.status == status, "\(what)")
            #expect(response.isProblem)
            #expect(!(response.object["detail"] as? String ?? "").isEmpty, "the problem says what is wrong")
            #expect(try await fixture.events() == before, "\(what) appended nothing")
        }
    }

    @Test func anOversizedBodyIs413AndChangesNothing() async throws {
        let fixture = try await APIFixture()
        try await fixture.test { api in
            let before = try await fixture.events()
            let huge = #"{"piece":"gmail","authType":"api-key","name":"G","credentials":{"apiKey":""# + String(repeating: "k", count: 70_000) + #""}}"#
            let response = try await api.call(.post, "/v1/connections", token: fixture.alice, json: huge)
            #expect(response.status == 413)
            #expect(response.isProblem)
            #expect(try await fixture.events() == before)
        }
    }

    @Test func badQueryParametersAre400() async throws {
        let fixture = try await APIFixture()
        let id = try await fixture.createConnection()
        try await fixture.test { api in
            for path in ["/v1/connections?status=sleeping", "/v1/connections?limit=0", "/v1/connections?limit=x",
                         "/v1/connections?sort=size", "/v1/connections?sort=active", "/v1/connections/\(id)?at=yesterday",
                         "/v1/connections/\(id)?at=2026-01-01T00:00:00Z&atPosition=3", "/v1/flows/f/debug",
                         "/v1/audit?since=soon", "/v1/reports/audit?format=pdf"] {
                let response = try await api.call(.get, path, token: fixture.alice)
                #expect(response.status == 400, "\(path)")
                #expect(response.isProblem)
            }
            #expect(try await api.call(.get, "/v1/connections?after=forged", token: fixture.alice).status == 422)
            #expect(try await api.call(.get, "/v1/reports/secrets", token: fixture.alice).status == 404)
            #expect(try await api.call(.get, "/v1/no-such-thing", token: fixture.alice).status == 404)
        }
    }

    /// A builder's Connection dropdown: one piece's connections (or several), active ones first.
    @Test func thePieceFilterAndTheDropdownOrder() async throws {
        let fixture = try await APIFixture()
        let sheet = try await fixture.createConnection(name: "zz Sheet", piece: "openai")
        let stripe = try await fixture.createConnection(name: "Stripe", piece: "stripe")
        let expired = try await fixture.createConnection(name: "aa Old", piece: "openai")
        _ = try await fixture.createConnection(name: "CRM", piece: "acme-crm")
        _ = try await fixture.log.service.expire(expired, reason: "key revoked at the provider", context: CommandContext(principal: .engine))
        try await fixture.test { api in
            func ids(_ path: String) async throws -> [String] {
                let response = try await api.call(.get, path, token: fixture.bob)
                #expect(response.status == 200, "\(path)")
                return try #require(response.object["connections"] as? [[String: Any]]).compactMap { $0["id"] as? String }
            }
            #expect(try await ids("/v1/connections?piece=openai&sort=active-first") == [sheet, expired])
            #expect(try await ids("/v1/connections?piece=openai") == [expired, sheet], "by name by default")
            #expect(try await ids("/v1/connections?piece=openai&piece=stripe&sort=active-first") == [stripe, sheet, expired])
            #expect(try await ids("/v1/connections?piece=stripe,openai&sort=active-first") == [stripe, sheet, expired])
            #expect(try await ids("/v1/connections?piece=gmail").isEmpty)
            let before = try await fixture.log.allEvents()
            let tooMany = (0...ConnectionList.maxPieces).map { "piece=p\($0)" }.joined(separator: "&")
            for path in ["/v1/connections?piece=Gmail", "/v1/connections?piece=gm%20ail", "/v1/connections?\(tooMany)"] {
                let response = try await api.call(.get, path, token: fixture.bob)
                #expect(response.status == 422, "\(path)")
                #expect(response.isProblem)
            }
            #expect(try await fixture.log.allEvents() == before)
        }
    }

    @Test func actingOnADeletedConnectionIs409() async throws {
        let fixture = try await APIFixture()
        let id = try await fixture.createConnection()
        try await fixture.test { api in
            let deleted = try await api.call(.delete, "/v1/connections/\(id)", token: fixture.alice)
            #expect(deleted.status == 200)
            let before = try await fixture.events()
            let rename = try await api.call(.post, "/v1/connections/\(id)/rename", token: fixture.alice, json: #"{"name":"X"}"#)
            #expect(rename.status == 409)
            #expect(rename.isProblem)
            let read = try await api.call(.get, "/v1/connections/\(id)/credentials", token: fixture.engine)
            #expect(read.status == 409)
            #expect(try await fixture.events() == before)
        }
    }

    @Test func aConcurrencyConflictThatNeverClearsIs409WithTheCurrentVersion() async throws {
        let fixture = try await APIFixture(wrapping: AlwaysConflictingStore.init)
        let id = try await fixture.createConnection()
        try await fixture.test { api in
            let response = try await api.call(.post, "/v1/connections/\(id)/rename", token: fixture.alice, json: #"{"name":"X"}"#)
            #expect(response.status == 409)
            #expect(response.object["currentVersion"] as? Int == 7, "the version the other writer left")
        }
    }

    @Test func lifecycleFlowsHistoryTimeTravelDebugAndReports() async throws {
        let fixture = try await APIFixture()
        let id = try await fixture.createConnection()
        try await fixture.test { api in
            #expect(try await api.call(.put, "/v1/connections/\(id)/flows/lead-sync", token: fixture.bob).status == 200)
            let flows = try await api.call(.get, "/v1/connections/\(id)/flows", token: fixture.bob)
            #expect(flows.array.map { $0["flowId"] as? String } == ["lead-sync"])
            let ofFlow = try await api.call(.get, "/v1/flows/lead-sync/connections", token: fixture.bob)
            #expect(ofFlow.array.map { $0["connectionId"] as? String } == [id])
            let before = try await api.call(.get, "/v1/connections/\(id)", token: fixture.bob)
            let positionBefore = try #require(before.object["asOfPosition"] as? Int)

            let expired = try await api.call(.post, "/v1/connections/\(id)/expire", token: fixture.engine, json: #"{"reason":"token expired"}"#)
            #expect(expired.status == 200)
            let refused = try await api.call(.post, "/v1/connections/\(id)/expire", token: fixture.alice, json: #"{"reason":"x"}"#)
            #expect(refused.status == 403, "only system and engine expire")
            let debug = try await api.call(.get, "/v1/flows/lead-sync/debug?at=\(Timestamp.now().iso8601)", token: fixture.bob)
            #expect(debug.status == 200)
            #expect((debug.object["verdict"] as? String)?.contains("Inactive") == true)

            let reconnected = try await api.call(.post, "/v1/connections/\(id)/reconnect", token: fixture.alice,
                                                 json: #"{"credentials":{"apiKey":"k-2"}}"#)
            #expect(reconnected.status == 200)
            let history = try await api.call(.get, "/v1/connections/\(id)/history", token: fixture.bob)
            #expect(history.items("changes").map { $0["toStatus"] as? String } == ["active", "inactive", "active"])
            #expect(history.items("changes").map { $0["reason"] as? String }.contains("expired: token expired"))
            let past = try await api.call(.get, "/v1/connections/\(id)?atPosition=\(positionBefore)", token: fixture.bob)
            #expect(past.object["status"] as? String == "Active")
            #expect(past.object["streamVersion"] as? Int == 2)
            #expect(past.headers[.eTag] == nil, "a past state has no ETag to write against")

            #expect(try await api.call(.put, "/v1/connections/\(id)/flows/lead-sync", token: fixture.bob)
                .object["changed"] as? Bool == false)
            #expect(try await api.call(.delete, "/v1/connections/\(id)/flows/lead-sync", token: fixture.bob).status == 200)
            #expect(try await api.call(.get, "/v1/connections/\(id)/flows", token: fixture.bob).array.isEmpty)
            #expect(try await api.call(.post, "/v1/connections/\(id)/revoke", token: fixture.alice, json: #"{"reason":"leak"}"#).status == 200)

            let csv = try await api.call(.get, "/v1/reports/status-history", token: fixture.bob)
            #expect(csv.status == 200)
            #expect(csv.contentType.hasPrefix("text/csv"))
            #expect(csv.headers[.contentDisposition] == "attachment; filename=\"status-history.csv\"")
            let lines = csv.text.split(separator: "\r\n")
            #expect(lines.count == 5, "a header and four transitions: active, expired, active, revoked")
            let json = try await api.call(.get, "/v1/reports/connections?format=json", token: fixture.bob)
            #expect(json.contentType == "application/json")
            #expect(json.array.count == 1)
            let asOf = try await api.call(.get, "/v1/reports/connections?format=json&asOf=2000-01-01T00:00:00Z", token: fixture.bob)
            #expect(asOf.array.isEmpty, "in 2000 there were no connections")
        }
    }

    @Test func theOpenAPIDocumentIsServedWithoutAToken() async throws {
        let fixture = try await APIFixture()
        try await fixture.test { api in
            let response = try await api.call(.get, "/openapi.json")
            #expect(response.status == 200)
            #expect(response.object["openapi"] as? String == "3.1.0")
            let paths = try #require(response.object["paths"] as? [String: Any])
            #expect(paths.keys.contains("/v1/connections/{id}/credentials"))
        }
    }

    @Test func expiringConnectionsAreListedSoonestFirst() async throws {
        let fixture = try await APIFixture()
        let soon = Timestamp(microseconds: Timestamp.now().microseconds + 3 * 86_400_000_000).iso8601
        let later = Timestamp(microseconds: Timestamp.now().microseconds + 20 * 86_400_000_000).iso8601
        let id = try await fixture.createConnection(name: "Key", piece: "hubspot", json: #"{"apiKey":"k","expiresAt":"\#(soon)"}"#)
        _ = try await fixture.createConnection(name: "Later", piece: "hubspot", json: #"{"apiKey":"k2","expiresAt":"\#(later)"}"#)
        try await fixture.test { api in
            let week = try await api.call(.get, "/v1/connections-expiring?within=7d", token: fixture.bob)
            #expect(week.status == 200 && week.array.count == 1)
            #expect(week.array.first?["id"] as? String == id && week.array.first?["renewsItself"] as? Bool == false)
            #expect(week.array.first?["credentialExpiresAt"] as? String == soon)
            #expect(try await api.call(.get, "/v1/connections-expiring?within=30d", token: fixture.bob).array.count == 2)
            let bad = try await api.call(.get, "/v1/connections-expiring?within=7x", token: fixture.bob)
            #expect(bad.status == 400 && bad.isProblem)
        }
    }
}
