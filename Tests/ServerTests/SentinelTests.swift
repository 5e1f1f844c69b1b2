import CredlogEvents
import CredlogTestSupport
import Foundation
import Hummingbird
import Testing

/// A sentinel secret planted through the API comes back only to the engine: never in another
/// response, an error, the server's log, the event log or a projection.
@Suite("API: secrets never leak")
struct SentinelTests {
    static let sentinel = "SENTINEL-7f3a9c-do-not-leak"

    @Test func theSentinelLeavesOnlyToTheEngine() async throws {
        let fixture = try await APIFixture()
        try await fixture.test { api in
            var seen = ""
            func record(_ response: APIResponse) { seen += response.text + "\n" + response.headers.map { "\($0.name): \($0.value)" }.joined(separator: "\n") + "\n" }
            let created = try await api.call(.post, "/v1/connections", token: fixture.alice, json: """
                {"piece":"smtp","authType":"basic","name":"Mail","credentials":{"username":"u","password":"\(Self.sentinel)"}}
                """)
            record(created)
            let id = try #require(created.object["connectionId"] as? String)
            // Bad input that quotes the secret must not echo it back.
            record(try await api.call(.post, "/v1/connections/\(id)/reconnect", token: fixture.alice,
                                      json: #"{"credentials":{"username":"u","password":"\#(Self.sentinel)","extra":"\#(Self.sentinel)"}}"#))
            record(try await api.call(.post, "/v1/connections/\(id)/reconnect", token: fixture.alice,
                                      json: #"{"credentials":{"username":"u","password":42}, "x": "\#(Self.sentinel)"#))
            record(try await api.call(.post, "/v1/connections/\(id)/reconnect", token: fixture.bob,
                                      json: #"{"credentials":{"username":"u","password":"\#(Self.sentinel)"}}"#))
            for path in ["/v1/connections", "/v1/connections/\(id)", "/v1/connections/\(id)/history", "/v1/audit", "/v1/events",
                         "/v1/events?limit=1000", "/v1/audit?order=newest&limit=1000",
                         "/v1/reports/connections", "/v1/reports/audit?format=json", "/v1/reports/status-history",
                         "/v1/connections/\(id)/credentials"] {
                record(try await api.call(.get, path, token: fixture.alice))
            }
            #expect(!seen.contains(Self.sentinel), "no response to a member holds the secret")
            let engine = try await api.call(.get, "/v1/connections/\(id)/credentials", token: fixture.engine)
            #expect(engine.object["password"] as? String == Self.sentinel, "the engine gets it")
        }
        let logText = fixture.logs.text
        #expect(!logText.isEmpty, "the server logged its requests")
        #expect(!logText.contains(Self.sentinel), "the server log holds no secret")
        for token in [fixture.alice, fixture.bob, fixture.engine] {
            #expect(!logText.contains(String(token.split(separator: "_").last ?? "")), "the server log holds no token")
        }
        #expect(!(try await fixture.log.storedBytes()).contains(bytes: Array(Self.sentinel.utf8)), "the database holds it sealed only")
    }

    @Test func tokenSecretsAndSessionCookiesAreShownOnceAndKeptNowhere() async throws {
        let fixture = try await APIFixture()
        let kept = Shared<[String]>([])
        try await fixture.test { api in
            let issued = try await api.call(.post, "/v1/tokens", token: fixture.alice, json: #"{"memberId":"alice","expiresIn":"1d"}"#)
            let token = try #require(issued.object["token"] as? String)
            let tokenId = try #require((issued.object["details"] as? [String: Any])?["tokenId"] as? String)
            let rotated = try await api.call(.post, "/v1/tokens/\(tokenId)/rotate", token: fixture.alice, json: "{}")
            let fresh = try #require(rotated.object["token"] as? String)
            let signIn = try await api.call(.post, "/login", form: "token=" + fresh)
            let cookie = String(try #require(signIn.headers[.setCookie]).split(separator: ";")[0].split(separator: "=")[1])
            #expect(try await api.call(.get, "/connections", headers: [.cookie: "credlog_session=" + cookie]).status == 200)
            let secrets = [String(token.split(separator: "_").last!), String(fresh.split(separator: "_").last!), cookie]
            kept.update { $0 = secrets }
            var listed = ""
            for path in ["/v1/tokens", "/v1/events?limit=1000", "/v1/audit?limit=1000", "/v1/reports/audit?format=json"] {
                listed += try await api.call(.get, path, token: fixture.alice).text
            }
            for secret in secrets { #expect(!listed.contains(secret), "no later answer holds a token's secret or a cookie") }
        }
        let stored = try await fixture.log.storedBytes()
        #expect(kept.current.count == 3)
        for secret in kept.current {
            #expect(!fixture.logs.text.contains(secret), "the server log holds no token secret or cookie")
            #expect(!stored.contains(bytes: Array(secret.utf8)), "the database keeps hashes only")
        }
    }
}
