import CredlogDomain
import CredlogEvents
import CredlogTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// The authorization-code flow through the API, against the loopback provider.
@Suite("OAuth2 authorization-code flow")
struct OAuth2FlowTests {
    struct Answer {
        var status: Int
        var text: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:] }
    }

    static func call(_ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, token: String? = nil,
                     json: String? = nil) async throws -> Answer {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        if json != nil { headers[.contentType] = "application/json" }
        return try await client.execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) }) {
            Answer(status: Int($0.status.code), text: String(buffer: $0.body))
        }
    }

    @Test(arguments: ["body", "basic"])
    func theWholePopupFlowCreatesAndReconnectsAConnection(clientAuthentication: String) async throws {
        let provider = TestOAuthProvider()
        provider.set { $0.clientAuthentication = clientAuthentication }
        try await provider.serve { baseURL in
            let fixture = try await LifecycleFixture(baseURL: baseURL, clientAuthentication: clientAuthentication)
            let bob = try await fixture.token(member: "bob")
            let alice = try await fixture.token(member: "alice")
            let engine = try await fixture.token(member: nil)
            try await fixture.server { client in
                // Bob asks for a new connection: a consent URL with state and an S256 challenge.
                let started = try await Self.call(client, .post, "/v1/oauth2/authorize", token: bob,
                                                  json: #"{"piece":"testmail","name":"Test Mail - Support"}"#)
                #expect(started.status == 200)
                let url = try #require(started.json["authorizationUrl"] as? String)
                let query = try #require(URLComponents(string: url)?.queryItems)
                #expect(query.first { $0.name == "code_challenge_method" }?.value == "S256")
                #expect(query.first { $0.name == "redirect_uri" }?.value == "http://credlog.test/v1/oauth2/callback")
                #expect(query.first { $0.name == "scope" }?.value == "mail.send mail.read")

                // The person consents; the provider sends the browser to the callback.
                let callback = try await consent(at: url)
                let done = try await Self.call(client, .get, callback)
                #expect(done.status == 200)
                #expect(done.text.contains(#"data-ok="true""#) && done.text.contains("Connected"))
                #expect(provider.codeGrants == 1)

                let list = try await Self.call(client, .get, "/v1/connections?search=test%20mail", token: bob)
                let row = try #require((try JSONSerialization.jsonObject(with: Data(list.text.utf8)) as? [String: Any])?["connections"]
                    .flatMap { $0 as? [[String: Any]] }?.first)
                let id = try #require(row["id"] as? String)
                #expect(row["status"] as? String == "active" && row["credentialRefreshable"] as? Bool == true)
                let created = try await fixture.log.store.readStream(.connection(id), from: 1)
                #expect(created.map(\.type) == ["connection.created"] && created.first?.actor.id == "bob")

                // The engine gets the provider's tokens.
                let credentials = try await Self.call(client, .get, "/v1/connections/\(id)/credentials", token: engine)
                #expect(credentials.json["accessToken"] as? String == "at-2" && credentials.json["refreshToken"] as? String == "rt-2")

                // The state was used: the same callback again is refused and appends nothing.
                let before = try await fixture.log.eventCount()
                let again = try await Self.call(client, .get, callback)
                #expect(again.status == 400 && again.text.contains("already used"))
                #expect(try await fixture.log.eventCount() == before)

                // Alice (admin) reconnects it through the provider.
                let restart = try await Self.call(client, .post, "/v1/oauth2/authorize", token: alice, json: #"{"connectionId":"\#(id)"}"#)
                let reconnected = try await Self.call(client, .get, try await consent(at: try #require(restart.json["authorizationUrl"] as? String)))
                #expect(reconnected.status == 200 && reconnected.text.contains("Reconnected"))
                #expect(try await fixture.eventTypes(id) == ["connection.created", "connection.reconnected"])
            }
            // Sealed everywhere: the client secret and the provider's tokens are nowhere in the database
            // (log, projections, keys, state table), nor in the server's log.
            let bytes = try await fixture.log.storedBytes()
            for secret in [TestOAuthProvider.clientSecret, "at-2", "rt-2", "at-4", "rt-4"] {
                #expect(!bytes.contains(bytes: Array(secret.utf8)), "\(secret) is in the database file")
                #expect(!fixture.serverLog.text.contains(secret))
            }
            // The callback's query (code and state) is not in the server's log.
            let logged = fixture.serverLog.text
            #expect(logged.contains("/v1/oauth2/callback?…") && !logged.contains("code-1") && !logged.contains("state="))
        }
    }

    @Test func forgedStatesProviderErrorsAndUselessTokenAnswersAppendNothing() async throws {
        let provider = TestOAuthProvider()
        try await provider.serve { baseURL in
            let fixture = try await LifecycleFixture(baseURL: baseURL)
            let bob = try await fixture.token(member: "bob")
            try await fixture.server { client in
                let before = try await fixture.log.eventCount()
                // A state credlog never issued.
                let forged = try await Self.call(client, .get, "/v1/oauth2/callback?code=code-1&state=forged")
                #expect(forged.status == 400 && forged.text.contains("unknown"))

                // The person refused at the provider.
                let started = try await Self.call(client, .post, "/v1/oauth2/authorize", token: bob, json: #"{"piece":"testmail","name":"M"}"#)
                let state = try #require(started.json["state"] as? String)
                let denied = try await Self.call(client, .get, "/v1/oauth2/callback?error=access_denied&error_description=User%20said%20no&state=\(state)")
                #expect(denied.status == 400 && denied.text.contains("access_denied") && denied.text.contains("User said no"))

                // A code the provider does not know (its answer is invalid_grant).
                let other = try await Self.call(client, .post, "/v1/oauth2/authorize", token: bob, json: #"{"piece":"testmail","name":"M"}"#)
                let otherState = try #require(other.json["state"] as? String)
                let badCode = try await Self.call(client, .get, "/v1/oauth2/callback?code=never-issued&state=\(otherState)")
                #expect(badCode.status == 400 && badCode.text.contains("invalid_grant"))

                // The provider is down while the code is exchanged.
                let third = try await Self.call(client, .post, "/v1/oauth2/authorize", token: bob, json: #"{"piece":"testmail","name":"M"}"#)
                let callback = try await consent(at: try #require(third.json["authorizationUrl"] as? String))
                provider.set { $0.mode = .failing }
                let down = try await Self.call(client, .get, callback)
                #expect(down.status == 400 && down.text.contains("could not be reached"))

                // The provider answers 200 without an access token.
                let fourth = try await Self.call(client, .post, "/v1/oauth2/authorize", token: bob, json: #"{"piece":"testmail","name":"M"}"#)
                provider.set { $0.mode = .normal }
                let tokenless = try await consent(at: try #require(fourth.json["authorizationUrl"] as? String))
                provider.set { $0.mode = .tokenless }
                let useless = try await Self.call(client, .get, tokenless)
                #expect(useless.status == 400 && useless.text.contains("no access_token"))

                #expect(try await fixture.log.eventCount() == before, "no attempt appended anything")
                #expect(provider.codeGrants == 0)
            }
        }
    }

    @Test func aMemberMayNotReconnectThroughTheProviderAndTheEngineMayNotAuthorize() async throws {
        let provider = TestOAuthProvider()
        try await provider.serve { baseURL in
            let fixture = try await LifecycleFixture(baseURL: baseURL)
            let id = try await fixture.oauth2Connection(expiresIn: 3600)
            let bob = try await fixture.token(member: "bob")
            let engine = try await fixture.token(member: nil)
            try await fixture.server { client in
                let refused = try await Self.call(client, .post, "/v1/oauth2/authorize", token: bob, json: #"{"connectionId":"\#(id)"}"#)
                #expect(refused.status == 403)
                let machine = try await Self.call(client, .post, "/v1/oauth2/authorize", token: engine, json: #"{"piece":"testmail","name":"M"}"#)
                #expect(machine.status == 403)
                let unknown = try await Self.call(client, .post, "/v1/oauth2/authorize", token: bob, json: #"{"piece":"hubspot","name":"M"}"#)
                #expect(unknown.status == 422 && unknown.text.contains("does not use OAuth2"))
                let unregistered = try await Self.call(client, .post, "/v1/oauth2/authorize", token: bob, json: #"{"piece":"gmail","name":"M"}"#)
                #expect(unregistered.status == 422 && unregistered.text.contains("no OAuth2 client is registered"))
            }
        }
    }
}
