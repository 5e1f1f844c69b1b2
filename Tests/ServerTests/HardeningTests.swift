import CredlogDomain
import CredlogEvents
import CredlogServer
import Foundation
import HTTPTypes
import Hummingbird
import Testing

/// What an attacker's probes of the API and the page found, each refused or bounded, with
/// nothing appended or stored where nothing should be.
@Suite("Hardening: API and page")
struct HardeningTests {
    func signIn(_ api: APIClient, _ token: String) async throws -> String {
        let response = try await api.call(.post, "/login", form: "token=" + token)
        #expect(response.status == 303)
        return String(try #require(response.headers[.setCookie]).split(separator: ";")[0])
    }

    @Test func aQuoteFollowedByACombiningMarkIsEscapedInNamesAndInTheSearch() async throws {
        let fixture = try await APIFixture()
        let hostile = "q\"\u{0301} autofocus onfocus=alert(1) x='\u{0301}"
        _ = try await fixture.createConnection(name: hostile)
        try await fixture.test { api in
            let cookie = try await signIn(api, fixture.alice)
            let search = "z\"\u{0301}><b>".addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            for path in ["/connections", "/connections?search=\(search)"] {
                let page = try await api.call(.get, path, headers: [.cookie: cookie])
                #expect(page.status == 200)
                #expect(!page.text.contains("\"\u{0301}") && !page.text.contains("'\u{0301}"), "no raw quote before a combining mark")
                #expect(!page.text.contains("<b>"))
            }
            let list = try await api.call(.get, "/connections", headers: [.cookie: cookie])
            #expect(list.text.contains("&quot;\u{0301} autofocus onfocus=alert(1) x=&#39;\u{0301}"), "shown as text")
        }
    }

    @Test func anotherProjectsTokenProbingAcmesIdsWritesNothingIntoAcmesAudit() async throws {
        let fixture = try await APIFixture()
        let id = try await fixture.createConnection()
        let acmeRefusals = { try await fixture.log.store.refusals().filter { $0.projectId == "acme" }.count }
        let before = try await acmeRefusals()
        let events = try await fixture.events()
        try await fixture.test { api in
            let requests: [(HTTPRequest.Method, String, String?)] = [
                (.post, "/v1/connections/\(id)/rename", #"{"name":"Mine"}"#), (.post, "/v1/connections/\(id)/revoke", #"{"reason":"probe"}"#),
                (.delete, "/v1/connections/\(id)", nil)]
            for request in requests {
                let response = try await api.call(request.0, request.1, token: fixture.carol, json: request.2)
                #expect(response.status == 404, "another project's connection looks absent")
            }
        }
        #expect(try await acmeRefusals() == before, "nothing written into acme's audit")
        #expect(try await fixture.events() == events)
        let globex = try await fixture.log.store.refusals().filter { $0.projectId == "globex" }
        #expect(globex.count == 3 && globex.allSatisfy { $0.actorId == "carol" && $0.stream == nil }, "kept in the caller's own scope")
    }

    @Test func oversizedCorrelationIdsAndIdempotencyKeysAreRefusedBeforeAnythingRuns() async throws {
        let fixture = try await APIFixture()
        let id = try await fixture.createConnection()
        let events = try await fixture.events()
        try await fixture.test { api in
            for header in [HTTPField.Name("X-Correlation-Id")!, HTTPField.Name("Idempotency-Key")!] {
                for value in [String(repeating: "k", count: 70_000), "has spaces", "é"] {
                    let response = try await api.call(.post, "/v1/connections/\(id)/rename", token: fixture.alice, json: #"{"name":"Renamed"}"#,
                                                      headers: [header: value])
                    #expect(response.status == 400 && response.isProblem, "\(header): \(response.status)")
                    #expect(response.headers[HTTPField.Name("X-Correlation-Id")!] != value, "not echoed")
                }
            }
            let fine = try await api.call(.post, "/v1/connections/\(id)/rename", token: fixture.alice, json: #"{"name":"Renamed"}"#,
                                          headers: [HTTPField.Name("X-Correlation-Id")!: "run-4812"])
            #expect(fine.status == 200 && fine.headers[HTTPField.Name("X-Correlation-Id")!] == "run-4812")
        }
        #expect(try await fixture.events().count == events.count + 1, "only the valid request appended")
    }

    @Test func aTokenWhoseRequestsKeepBeingRefusedIsSlowedDown() async throws {
        let limiter = RefusalLimiter(requests: .init(limit: 5, window: .seconds(3600)))
        let fixture = try await APIFixture(limiter: limiter)
        let id = try await fixture.createConnection()
        try await fixture.test { api in
            for n in 0..<5 {
                let refused = try await api.call(.post, "/v1/connections/\(id)/revoke", token: fixture.bob, json: #"{"reason":"r\#(n)"}"#)
                #expect(refused.status == 403)
            }
            let slowed = try await api.call(.post, "/v1/connections/\(id)/revoke", token: fixture.bob, json: #"{"reason":"more"}"#)
            #expect(slowed.status == 429 && Int(slowed.headers[.retryAfter] ?? "") ?? 0 > 0)
            #expect(try await api.call(.get, "/v1/connections", token: fixture.alice).status == 200, "other tokens go on")
        }
        #expect(try await fixture.log.store.refusals().filter { $0.actorId == "bob" }.count == 5, "the 429 wrote nothing")
    }

    @Test func failedSignInsAreLimitedPerAddress() async throws {
        let fixture = try await APIFixture(limiter: RefusalLimiter(signIns: .init(limit: 3, window: .seconds(3600))))
        try await fixture.test { api in
            for _ in 0..<3 { #expect(try await api.call(.post, "/login", form: "token=clt_tok_guess_guess").status == 401) }
            let limited = try await api.call(.post, "/login", form: "token=" + fixture.alice)
            #expect(limited.status == 429 && limited.headers[.setCookie] == nil, "even a good token waits: no oracle")
            #expect(try await api.call(.get, "/v1/connections", token: "clt_tok_guess_guess").status == 429)
        }
    }

    @Test func sessionCookiesAreSecureBehindHttpsAndSessionsAreCapped() async throws {
        let fixture = try await APIFixture(publicURL: "https://credlog.example.com")
        try await fixture.test { api in
            let response = try await api.call(.post, "/login", form: "token=" + fixture.alice)
            #expect(try #require(response.headers[.setCookie]).contains("Secure"))
            let first = String(try #require(response.headers[.setCookie]).split(separator: ";")[0])
            #expect(try await api.call(.get, "/connections", headers: [.cookie: first]).status == 200)
            for _ in 0..<20 { _ = try await signIn(api, fixture.alice) }
            #expect(try await api.call(.get, "/connections", headers: [.cookie: first]).status == 303,
                    "a token holds at most 20 sessions: the oldest went")
        }
        let plain = try await APIFixture()
        try await plain.test { api in
            let response = try await api.call(.post, "/login", form: "token=" + plain.alice)
            #expect(try #require(response.headers[.setCookie]).contains("Secure") == false, "plain http (development) keeps working")
        }
    }

    @Test func impossibleDatesAreRefusedNotRolledOver() async throws {
        let fixture = try await APIFixture()
        let id = try await fixture.createConnection()
        try await fixture.test { api in
            for at in ["2026-02-31", "2026-02-29T10:00:00Z", "2026-11-21T10:05+99:00"] {
                let response = try await api.call(.get, "/v1/connections/\(id)?at=\(at.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)",
                                                  token: fixture.bob)
                #expect(response.status == 400, "\(at)")
            }
        }
    }

    @Test func aMembersRefusedAuthorizationIsAudited() async throws {
        let fixture = try await APIFixture()
        let id = try await fixture.createConnection()
        let before = try await fixture.log.store.refusals().count
        try await fixture.test { api in
            let response = try await api.call(.post, "/v1/oauth2/authorize", token: fixture.bob, json: #"{"connectionId":"\#(id)"}"#)
            #expect(response.status == 403)
        }
        let refusals = try await fixture.log.store.refusals()
        #expect(refusals.count == before + 1 && refusals.last?.command == "oauth2.authorize" && refusals.last?.actorId == "bob")
    }

    @Test func searchTermsAndCursorsAreBoundedInBytes() async throws {
        let fixture = try await APIFixture()
        _ = try await fixture.createConnection()
        try await fixture.test { api in
            let zalgo = ("a" + String(repeating: "\u{0301}", count: 3000)).addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let searched = try await api.call(.get, "/v1/connections?search=\(zalgo)", token: fixture.bob)
            #expect(searched.status == 422)
            let cursor = String(repeating: "A", count: 10_000)
            let paged = try await api.call(.get, "/v1/connections?after=\(cursor)", token: fixture.bob)
            #expect(paged.status == 422)
        }
    }
}
