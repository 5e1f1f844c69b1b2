import CredlogDomain
import CredlogEvents
import CredlogProjections
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

    /// A connection's page shows a page of its status history and audit trail, newest audit entries
    /// first, and links to the rest: following them shows every entry once.
    @Test func aLongHistoryIsShownAPageAtATimeWithLinksToTheRest() async throws {
        let fixture = try await APIFixture()
        let id = try await fixture.createConnection(name: "Gmail")
        for round in 0..<70 {
            _ = try await fixture.log.service.expire(id, reason: "lapsed \(round)", context: CommandContext(principal: .engine))
            var secret = Array(#"{"apiKey":"k-\#(round)"}"#.utf8)
            _ = try await fixture.log.service.reconnect(id, credentials: &secret, context: CommandContext(principal: .member("alice")))
        }
        let audit = try await fixture.log.database.read { db in try AuditQuery(connectionId: id).fetch(db) }
        let history = try await fixture.log.database.read { db in try StatusHistoryQuery.history(of: id, db) }
        try await fixture.test { api in
            let (cookie, _) = try await signIn(api, fixture.bob)
            func rows(_ html: String, table: String) -> Int {
                guard let start = html.range(of: "<table id=\"\(table)\"") else { return -1 }
                let body = html[start.upperBound...]
                let end = body.range(of: "</table>")?.lowerBound ?? body.endIndex
                return body[..<end].components(separatedBy: "<tr").count - 2  // less the header row
            }
            func link(_ html: String, _ text: String) -> String? {
                guard let end = html.range(of: "\">\(text)") else { return nil }
                let before = html[..<end.lowerBound]
                return before.range(of: "href=\"", options: .backwards).map { String(before[$0.upperBound...]).replacingOccurrences(of: "&amp;", with: "&") }
            }
            var page = try await api.call(.get, "/connections/\(id)", headers: [.cookie: cookie])
            #expect(rows(page.text, table: "audit") == 100 && rows(page.text, table: "history") == 100)
            var (auditSeen, historySeen) = (100, 100)
            var next = link(page.text, "Older entries")
            while let href = next {
                page = try await api.call(.get, href, headers: [.cookie: cookie])
                auditSeen += rows(page.text, table: "audit")
                next = link(page.text, "Older entries")
                try #require(auditSeen <= audit.count)
            }
            #expect(auditSeen == audit.count)
            next = link(try await api.call(.get, "/connections/\(id)", headers: [.cookie: cookie]).text, "Later changes")
            while let href = next {
                page = try await api.call(.get, href, headers: [.cookie: cookie])
                historySeen += rows(page.text, table: "history")
                next = link(page.text, "Later changes")
                try #require(historySeen <= history.count)
            }
            #expect(historySeen == history.count && history.count > 100)
        }
    }

    @Test func aRevokedTokenEndsItsSessions() async throws {
        let fixture = try await APIFixture()
        try await fixture.test { api in
            let (cookie, _) = try await signIn(api, fixture.alice)
            #expect(try await api.call(.get, "/connections", headers: [.cookie: cookie]).status == 200)
            try await fixture.log.revokeToken(fixture.aliceTokenId)
            #expect(try await api.call(.get, "/connections", headers: [.cookie: cookie]).status == 303)
        }
    }

    @Test func aMemberCreatesFromTheNewConnectionFormAndAWrongPieceChangesNothing() async throws {
        let fixture = try await APIFixture()
        try await fixture.test { api in
            let (cookie, csrf) = try await signIn(api, fixture.bob)
            let page = try await api.call(.get, "/connections", headers: [.cookie: cookie])
            #expect(page.text.contains(#"id="new-connection""#) && page.text.contains(#"<option value="hubspot" data-auth="api-key" data-oauth2="false">HubSpot</option>"#))
            let before = try await fixture.events()
            let wrong = try await api.call(.post, "/connections/new", form: "csrf=\(csrf)&piece=gmail&name=Mail&apiKey=k", headers: [.cookie: cookie])
            #expect(wrong.status == 303)
            #expect(try await api.call(.get, "/connections", headers: [.cookie: cookie]).text.contains("accessToken"),
                    "the gmail piece takes OAuth2 fields: the form's error says which")
            #expect(try await fixture.events() == before)
            let made = try await api.call(.post, "/connections/new", form: "csrf=\(csrf)&piece=hubspot&name=CRM&apiKey=k-9&expiresAt=2027-01-01T00%3A00",
                                          headers: [.cookie: cookie])
            #expect(made.status == 303)
            let after = try await fixture.events()
            #expect(after.count == before.count + 1 && after.last?.type == "connection.created" && after.last?.actor.id == "bob")
            let row = try await api.call(.get, "/v1/connections?search=CRM", token: fixture.bob)
            #expect(row.text.contains(#""credentialExpiresAt":"2027-01-01T00:00:00.000000Z""#))
        }
    }

    @Test func oauth2PiecesWithARegisteredClientConnectThroughThePopup() async throws {
        let fixture = try await APIFixture()
        let piece = try JSONDecoder().decode(PieceDefinition.self, from: Data(#"""
            {"id": "testmail", "displayName": "Test Mail", "authType": "oauth2",
             "oauth2": {"authorizeUrl": "https://provider.test/authorize", "tokenUrl": "https://provider.test/token",
                        "scopes": ["mail"], "clientId": "client-1", "pkce": true, "clientAuthentication": "body"}}
            """#.utf8))
        var secret: [UInt8]? = Array("client-secret".utf8)
        _ = try await fixture.log.service.registerPiece(piece, clientSecret: &secret, in: "acme", context: .init(principal: .member("alice")))
        let id = try await fixture.createConnection(name: "Mail", piece: "testmail", json: #"{"accessToken":"a"}"#, auth: .oauth2)
        try await fixture.test { api in
            let (cookie, csrf) = try await signIn(api, fixture.alice)
            let page = try await api.call(.get, "/connections", headers: [.cookie: cookie])
            #expect(page.text.contains(#"data-oauth2="true">Test Mail</option>"#))
            #expect(page.text.contains(#"data-id="\#(id)" data-name="Mail" data-auth="oauth2" data-oauth2>Reconnect</button>"#))
            let refused = try await api.call(.post, "/connections/oauth2", form: "piece=testmail&name=Mail+2", headers: [.cookie: cookie])
            #expect(refused.status == 403, "no CSRF token")
            let started = try await api.call(.post, "/connections/oauth2", form: "csrf=\(csrf)&piece=testmail&name=Mail+2",
                                             headers: [.cookie: cookie])
            let url = try #require(started.object["authorizationUrl"] as? String)
            #expect(url.hasPrefix("https://provider.test/authorize?response_type=code&client_id=client-1&redirect_uri="))
            #expect(url.contains("code_challenge_method=S256"))
            let reconnect = try await api.call(.post, "/connections/oauth2", form: "csrf=\(csrf)&connectionId=\(id)", headers: [.cookie: cookie])
            #expect(reconnect.status == 200)
        }
    }
}
