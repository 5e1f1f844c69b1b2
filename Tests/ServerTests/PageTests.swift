import CredlogEvents
import Foundation
import Hummingbird
import Testing

/// The Connections page over HTTP: sessions, CSRF, escaping and who is offered which actions.
/// (The same page is driven in real Chromium by Tests/Browser.)
@Suite("Connections page")
struct PageTests {
    /// Signs in and returns the session cookie and the page's CSRF token.
    func signIn(_ api: APIClient, _ token: String) async throws -> (cookie: String, csrf: String) {
        let response = try await api.call(.post, "/login", form: "token=" + token)
        #expect(response.status == 303)
        let setCookie = try #require(response.headers[.setCookie])
        #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict"), "\(setCookie)")
        let cookie = String(setCookie.split(separator: ";")[0])
        let page = try await api.call(.get, "/connections", headers: [.cookie: cookie])
        let csrf = try #require(page.text.firstMatch(of: /name="csrf" value="([0-9a-f]+)"/)?.1)
        return (cookie, String(csrf))
    }

    @Test func signingInNeedsAValidMemberToken() async throws {
        let fixture = try await APIFixture()
        try await fixture.test { api in
            let page = try await api.call(.get, "/connections")
            #expect(page.status == 303 && page.headers[.location] == "/login", "no session: sign in first")
            #expect(try await api.call(.post, "/login", form: "token=clt_tok_x_y").status == 401)
            #expect(try await api.call(.post, "/login", form: "token=" + fixture.engine).status == 403)
            #expect(try await api.call(.post, "/connections/x/rename", form: "name=y").status == 303, "no session: no action")
        }
    }

    @Test func aConnectionNamedLikeAScriptShowsAsText() async throws {
        let fixture = try await APIFixture()
        _ = try await fixture.createConnection(name: "<script>alert(1)</script>")
        try await fixture.test { api in
            let (cookie, _) = try await signIn(api, fixture.alice)
            let page = try await api.call(.get, "/connections", headers: [.cookie: cookie])
            #expect(page.status == 200)
            #expect(!page.text.contains("<script>alert(1)"))
            #expect(page.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            #expect(page.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true)
        }
    }

    @Test func actionsAreOfferedToAdminsOnly() async throws {
        let fixture = try await APIFixture()
        _ = try await fixture.createConnection()
        try await fixture.test { api in
            let admin = try await api.call(.get, "/connections", headers: [.cookie: try await signIn(api, fixture.alice).cookie])
            #expect(admin.text.contains("button type=\"button\" class=\"secondary rename\""))
            let member = try await api.call(.get, "/connections", headers: [.cookie: try await signIn(api, fixture.bob).cookie])
            #expect(member.text.contains("Gmail"))
            #expect(!member.text.contains("class=\"secondary rename\"") && !member.text.contains("reconnect-dialog"))
        }
    }

    @Test func aFormWithoutTheSessionsCSRFTokenIsRefusedAndChangesNothing() async throws {
        let fixture = try await APIFixture()
        let id = try await fixture.createConnection()
        try await fixture.test { api in
            let (cookie, csrf) = try await signIn(api, fixture.alice)
            let before = try await fixture.events()
            for form in ["name=Hijacked", "name=Hijacked&csrf=" + String(repeating: "0", count: 64)] {
                let response = try await api.call(.post, "/connections/\(id)/rename", form: form, headers: [.cookie: cookie])
                #expect(response.status == 403)
            }
            #expect(try await fixture.events() == before)
            let renamed = try await api.call(.post, "/connections/\(id)/rename", form: "name=Gmail+-+Sales&csrf=\(csrf)&return=%2Fconnections%3Fstatus%3Dall",
                                             headers: [.cookie: cookie])
            #expect(renamed.status == 303 && renamed.headers[.location] == "/connections?status=all")
            let page = try await api.call(.get, "/connections?status=all", headers: [.cookie: cookie])
            #expect(page.text.contains("Renamed to Gmail - Sales."))
            #expect(try await fixture.events().count == before.count + 1)
        }
    }

    @Test func reconnectingFromTheModalMakesTheConnectionActive() async throws {
        let fixture = try await APIFixture()
        let id = try await fixture.createConnection(json: #"{"username":"u","password":"p"}"#, auth: .basic)
        _ = try await fixture.log.service.expire(id, reason: "password changed", context: .init(principal: .engine))
        try await fixture.test { api in
            let (cookie, csrf) = try await signIn(api, fixture.alice)
            let bad = try await api.call(.post, "/connections/\(id)/reconnect", form: "csrf=\(csrf)&username=u", headers: [.cookie: cookie])
            #expect(bad.status == 303)
            let refused = try await api.call(.get, "/connections", headers: [.cookie: cookie])
            #expect(refused.text.contains("basic credentials need the field &#39;password&#39;")
                    || refused.text.contains("basic credentials need the field &#x27;password&#x27;")
                    || refused.text.contains("need the field"), "the modal's error is shown")
            #expect(try await fixture.log.service.loadConnection(id).state.connection?.status.isActive == false)
            _ = try await api.call(.post, "/connections/\(id)/reconnect", form: "csrf=\(csrf)&username=u&password=p2", headers: [.cookie: cookie])
            #expect(try await fixture.log.service.loadConnection(id).state.connection?.status.isActive == true)
        }
    }

    @Test func aRevokedTokenEndsItsSessions() async throws {
        let fixture = try await APIFixture()
        try await fixture.test { api in
            let (cookie, _) = try await signIn(api, fixture.alice)
            #expect(try await api.call(.get, "/connections", headers: [.cookie: cookie]).status == 200)
            try await fixture.log.database.write { db in _ = try AccessTokens.revoke(fixture.aliceTokenId, now: .now(), db) }
            #expect(try await api.call(.get, "/connections", headers: [.cookie: cookie]).status == 303)
        }
    }
}
