import CredlogDomain
import CredlogEvents
import CredlogTestSupport
import Foundation
import HTTPTypes
import Testing

/// Tokens through the API: admins issue, list, rotate and revoke them; an expired token is 401
/// with its reason; a read-only token reads and is refused every write, each refusal audited;
/// a rotated token's former secret works for its grace period only; the last use is noted
/// once a minute. The server's clock is the test's: no waiting.
@Suite("API tokens", .serviceScope)
struct APITokenTests {
    /// A clock the test moves.
    final class TestClock: Sendable {
        let now = Shared(Timestamp(iso8601: "2026-12-01T09:00:00Z")!)
        func advance(_ duration: Duration) { now.update { $0 = $0 + duration } }
        var read: @Sendable () -> Timestamp { { [now] in now.current } }
    }

    /// Issues a token through the API as `admin`; returns the token text and its id.
    func issue(_ api: APIClient, by admin: String, _ body: String) async throws -> (token: String, id: String, response: APIResponse) {
        let response = try await api.call(.post, "/v1/tokens", token: admin, json: body)
        let token = response.object["token"] as? String ?? ""
        let id = (response.object["details"] as? [String: Any])?["tokenId"] as? String ?? ""
        return (token, id, response)
    }

    @Test func adminsIssueListAndRevokeTokensAndMembersMayNot() async throws {
        let clock = TestClock()
        let fixture = try await APIFixture(clock: clock.read)
        try await fixture.test { api in
            let before = try await fixture.events().count
            let refused = try await api.call(.post, "/v1/tokens", token: fixture.bob, json: #"{"memberId":"bob"}"#)
            #expect(refused.status == 403 && refused.isProblem)
            #expect(try await fixture.events().count == before, "a member issues nothing")
            #expect(try await fixture.log.store.refusals().contains { $0.actorId == "bob" && $0.command == "token.issue" })

            let impersonating = try await api.call(.post, "/v1/tokens", token: fixture.alice, json: #"{"memberId":"bob"}"#)
            #expect(impersonating.status == 403 && (impersonating.object["detail"] as? String ?? "").contains("for themselves only"),
                    "a full token acting as bob would let alice act under bob's name")
            #expect(try await fixture.events().count == before, "nothing issued")
            let issued = try await issue(api, by: fixture.alice, #"{"memberId":"bob","scope":"read"}"#)
            #expect(issued.response.status == 201)
            #expect(issued.response.headers[.cacheControl] == "no-store", "an answer holding a secret is never cached")
            let details = try #require(issued.response.object["details"] as? [String: Any])
            #expect(details["scope"] as? String == "read" && details["memberId"] as? String == "bob")
            #expect(details["expiresAt"] as? String == (clock.now.current + .seconds(90 * 86_400)).iso8601, "90 days by default")
            let events = try await fixture.events()
            #expect(events.count == before + 1 && events.last?.type == "project.token-issued" && events.last?.actor.id == "alice")
            #expect(!events.contains { String(decoding: $0.payload, as: UTF8.self).contains(issued.token.split(separator: "_").last!) },
                    "the secret is not in the log")

            #expect(try await api.call(.get, "/v1/connections", token: issued.token).status == 200, "the new token reads as bob")
            let forHerself = try await issue(api, by: fixture.alice, #"{"memberId":"alice","expiresIn":"7d"}"#)
            #expect(forHerself.response.status == 201 && (forHerself.response.object["details"] as? [String: Any])?["scope"] as? String == "full",
                    "a full token for herself")
            let all = try await api.call(.get, "/v1/tokens", token: fixture.alice)
            #expect(all.status == 200 && all.array.contains { $0["tokenId"] as? String == issued.id })
            #expect(all.array.allSatisfy { $0["projectId"] as? String == "acme" }, "only the project's tokens")
            let own = try await api.call(.get, "/v1/tokens", token: fixture.bob)
            #expect(own.array.count == 2 && own.array.allSatisfy { $0["memberId"] as? String == "bob" }, "a member sees their own")

            for (body, what) in [(#"{"memberId":"alice","expiresIn":"400d"}"#, "past the admin's year"),
                                 (#"{"memberId":"alice","expiresIn":"soon"}"#, "not a span"),
                                 (#"{"memberId":"alice","scope":"root"}"#, "an unknown scope"),
                                 (#"{"memberId":"mallory"}"#, "not a member")] {
                let count = try await fixture.events().count
                let response = try await api.call(.post, "/v1/tokens", token: fixture.alice, json: body)
                #expect([404, 422].contains(response.status) && response.isProblem, "\(what)")
                #expect(try await fixture.events().count == count, "\(what) changes nothing")
            }

            #expect(try await api.call(.delete, "/v1/tokens/\(issued.id)", token: fixture.bob).status == 403)
            let globexProbe = try await api.call(.delete, "/v1/tokens/\(issued.id)", token: fixture.carol)
            #expect(globexProbe.status == 404, "another project's token looks absent")
            #expect(try await api.call(.delete, "/v1/tokens/\(issued.id)", token: fixture.alice).status == 204)
            let revoked = try await api.call(.get, "/v1/connections", token: issued.token)
            #expect(revoked.status == 401 && (revoked.object["detail"] as? String ?? "").contains("revoked at"))
            #expect(try await api.call(.delete, "/v1/tokens/\(issued.id)", token: fixture.alice).status == 404, "revoked once")
        }
    }

    @Test func anExpiredTokenIs401WithItsReasonAndSignsInNoMore() async throws {
        let clock = TestClock()
        let fixture = try await APIFixture(clock: clock.read)
        try await fixture.test { api in
            let issued = try await issue(api, by: fixture.alice, #"{"memberId":"alice","expiresIn":"1h"}"#)
            #expect(try await api.call(.get, "/v1/connections", token: issued.token).status == 200)
            clock.advance(.seconds(3599))
            #expect(try await api.call(.get, "/v1/connections", token: issued.token).status == 200, "a second before its end")
            clock.advance(.seconds(1))
            let expired = try await api.call(.get, "/v1/connections", token: issued.token)
            #expect(expired.status == 401 && expired.headers[.wwwAuthenticate] != nil)
            #expect((expired.object["detail"] as? String ?? "").contains("expired at 2026-12-01T10:00:00"), "\(expired.text)")
            let wrong = try await api.call(.get, "/v1/connections", token: String(issued.token.dropLast(3)) + "xyz")
            #expect(wrong.status == 401 && !(wrong.object["detail"] as? String ?? "").contains("expired"),
                    "a wrong secret learns nothing about the token")
            let signIn = try await api.call(.post, "/login", form: "token=" + issued.token)
            #expect(signIn.status == 401 && signIn.headers[.setCookie] == nil && signIn.text.contains("expired"))
        }
    }

    @Test func aReadOnlyTokenReadsAndIsRefusedEveryWriteEachAudited() async throws {
        let fixture = try await APIFixture()
        let id = try await fixture.createConnection()
        try await fixture.test { api in
            let reader = try await issue(api, by: fixture.alice, #"{"memberId":"alice","scope":"read","expiresIn":"30d"}"#).token
            for path in ["/v1/connections", "/v1/connections/\(id)", "/v1/connections/\(id)/history", "/v1/audit", "/v1/events",
                         "/v1/reports/connections?format=csv", "/v1/pieces", "/v1/tokens"] {
                #expect(try await api.call(.get, path, token: reader).status == 200, "\(path)")
            }
            let events = try await fixture.events()
            let refusalsBefore = try await fixture.log.store.refusals().count
            let writes: [(HTTPRequest.Method, String, String?)] = [
                (.post, "/v1/connections", #"{"piece":"acme-crm","authType":"apiKey","name":"X","credentials":{"apiKey":"k"}}"#),
                (.post, "/v1/connections/\(id)/rename", #"{"name":"Renamed"}"#),
                (.post, "/v1/connections/\(id)/reconnect", #"{"credentials":{"apiKey":"k-2"}}"#),
                (.post, "/v1/connections/\(id)/expire", #"{"reason":"x"}"#),
                (.post, "/v1/connections/\(id)/revoke", #"{"reason":"x"}"#),
                (.post, "/v1/connections/\(id)/check", "{}"),
                (.delete, "/v1/connections/\(id)", nil),
                (.put, "/v1/connections/\(id)/flows/flow-1", nil),
                (.post, "/v1/oauth2/authorize", #"{"piece":"gmail","name":"G"}"#),
                (.post, "/v1/tokens", #"{"memberId":"alice"}"#),
                (.delete, "/v1/tokens/\(fixture.aliceTokenId)", nil),
            ]
            for (method, path, body) in writes {
                let response = try await api.call(method, path, token: reader, json: body)
                #expect(response.status == 403 && (response.object["detail"] as? String ?? "").contains("read-only"), "\(method) \(path)")
            }
            let credentials = try await api.call(.get, "/v1/connections/\(id)/credentials", token: reader)
            #expect(credentials.status == 403, "plaintext stays the engine's")
            #expect(try await fixture.events() == events, "nothing was written")
            let refusals = try await fixture.log.store.refusals().dropFirst(refusalsBefore)
            #expect(refusals.count == writes.count + 1, "each refusal is audited")
            #expect(refusals.contains { $0.command == "POST /v1/connections/{id}/rename" && $0.actorId == "alice" && $0.projectId == "acme" })
            #expect(refusals.contains { $0.command == "connection.reveal" })
        }
    }

    @Test func aRotatedTokensFormerSecretWorksForItsGraceOnly() async throws {
        let clock = TestClock()
        let fixture = try await APIFixture(clock: clock.read)
        try await fixture.test { api in
            let issued = try await issue(api, by: fixture.alice, #"{"memberId":"alice","expiresIn":"10d"}"#)
            let events = try await fixture.events()
            let tooLong = try await api.call(.post, "/v1/tokens/\(issued.id)/rotate", token: fixture.alice, json: #"{"grace":"8d"}"#)
            #expect(tooLong.status == 422 && tooLong.isProblem)
            #expect(try await fixture.events() == events, "a refused rotation changes nothing")

            let rotated = try await api.call(.post, "/v1/tokens/\(issued.id)/rotate", token: fixture.alice, json: #"{"grace":"30m"}"#)
            #expect(rotated.status == 200 && rotated.headers[.cacheControl] == "no-store")
            let fresh = try #require(rotated.object["token"] as? String)
            #expect(fresh != issued.token && fresh.hasPrefix("clt_\(issued.id)_"), "the same token id, a new secret")
            #expect(try await fixture.events().last?.type == "project.token-rotated")
            for token in [issued.token, fresh] { #expect(try await api.call(.get, "/v1/connections", token: token).status == 200) }
            clock.advance(.seconds(30 * 60))
            #expect(try await api.call(.get, "/v1/connections", token: issued.token).status == 401, "the grace is over")
            #expect(try await api.call(.get, "/v1/connections", token: fresh).status == 200)
            let details = try #require(try await api.call(.get, "/v1/tokens", token: fixture.alice).array.first { $0["tokenId"] as? String == issued.id })
            #expect(details["expiresAt"] as? String == (clock.now.current - .seconds(30 * 60) + .seconds(10 * 86_400)).iso8601,
                    "a rotation keeps the expiry")

            let tokens = try await api.call(.get, "/v1/tokens", token: fixture.alice).array
            let engineId = try #require(tokens.first { $0["kind"] as? String == "engine" }?["tokenId"] as? String)
            #expect(try await api.call(.post, "/v1/tokens/\(engineId)/rotate", token: fixture.alice, json: "{}").status == 403,
                    "an engine's secret is the operator's to mint")
            let bobsId = try #require(tokens.first { $0["memberId"] as? String == "bob" }?["tokenId"] as? String)
            #expect(try await api.call(.post, "/v1/tokens/\(bobsId)/rotate", token: fixture.alice, json: "{}").status == 403,
                    "nor does an admin get the secret of a full token acting as another member")
        }
    }

    @Test func theLastUseIsNotedOnceAMinute() async throws {
        let clock = TestClock()
        let fixture = try await APIFixture(clock: clock.read)
        try await fixture.test { api in
            func lastUse() async throws -> String? {
                try await fixture.log.database.read { db in try AccessTokens.find(fixture.aliceTokenId, db) }?.lastUsedAt
            }
            #expect(try await lastUse() == nil)
            let start = clock.now.current
            #expect(try await api.call(.get, "/v1/connections", token: fixture.alice).status == 200)
            #expect(try await lastUse() == start.iso8601)
            clock.advance(.seconds(59))
            _ = try await api.call(.get, "/v1/connections", token: fixture.alice)
            #expect(try await lastUse() == start.iso8601, "within the minute: no write")
            clock.advance(.seconds(2))
            _ = try await api.call(.get, "/v1/connections", token: fixture.alice)
            #expect(try await lastUse() == clock.now.current.iso8601)
        }
    }
}
