import CredlogDomain
import CredlogEvents
import CredlogLifecycle
import CredlogTestSupport
import Foundation
import Testing

/// Providers that answer too often, too much or nonsense, and URLs that point inside the network.
@Suite("Hostile providers and destinations")
struct HostileProviderTests {
    @Test func shortLivedTokensAreRefreshedOncePerHalfLifetimeNotOnEveryRead() async throws {
        let provider = TestOAuthProvider()
        provider.set { $0.liveRefreshTokens = ["rt-seed"]; $0.accessTokenLifetime = 600 }
        try await provider.serve { baseURL in
            let fixture = try await LifecycleFixture(baseURL: baseURL)
            let id = try await fixture.oauth2Connection(expiresIn: 60)
            for _ in 0..<5 { #expect(try await fixture.engineRead(id)["accessToken"] as? String == "at-1") }
            #expect(provider.refreshGrants == 1, "a 10-minute token just issued is not due (the lead is at most half its life)")
            #expect(try await fixture.eventTypes(id).filter { $0 == "connection.token-refreshed" }.count == 1)
            let report = try await fixture.lifecycle.sweeper.sweep(now: fixture.now)
            #expect(report.refreshed.isEmpty && provider.refreshGrants == 1, "nor for the sweeper")

            fixture.advance(301)  // past half the token's life
            #expect(try await fixture.engineRead(id)["accessToken"] as? String == "at-2")
            #expect(provider.refreshGrants == 2)
        }
    }

    @Test(arguments: [("9223372036854775807", 10 * 365 * 86_400), ("-5", 60), (#""3600""#, 3600), ("1e308", 10 * 365 * 86_400),
                      ("null", nil as Int?), (#"{"a":1}"#, nil)])
    func anyExpiresInIsClampedNeverTrapping(json: String, lifetime: Int?) async throws {
        let provider = TestOAuthProvider()
        provider.set { $0.liveRefreshTokens = ["rt-seed"]; $0.expiresInJSON = json }
        try await provider.serve { baseURL in
            let fixture = try await LifecycleFixture(baseURL: baseURL)
            let id = try await fixture.oauth2Connection(expiresIn: 60)
            #expect(try await fixture.engineRead(id)["accessToken"] as? String == "at-1")
            let expiry = try #require(try await fixture.state(id)).credentials.expiresAt
            #expect(expiry == lifetime.map { (fixture.now + .seconds($0)).iso8601 }, "expires_in \(json)")
        }
    }

    @Test func requestsToLoopbackPrivateAndLinkLocalAddressesAreRefusedBeforeConnecting() async throws {
        let provider = TestOAuthProvider()
        try await provider.serve { baseURL in
            let http = OutboundHTTP(timeout: .seconds(60), destinations: .publicOnly)
            let port = baseURL.split(separator: ":").last ?? "1"
            for url in ["\(baseURL)/token", "http://localhost:\(port)/token", "http://[::1]:\(port)/token",
                        "http://[::ffff:127.0.0.1]:\(port)/token", "http://169.254.169.254/latest/meta-data/",
                        "http://10.1.2.3/", "http://192.168.0.1/", "http://172.16.0.1/", "http://100.64.0.1/", "http://0.0.0.0/",
                        "http://[fd00::1]/", "http://[fe80::1]/", "file:///etc/passwd", "gopher://127.0.0.1/"] {
                await #expect(throws: OutboundHTTP.RefusedDestination.self, "\(url)") {
                    _ = try await http.send(.POST, url, body: Array("grant_type=refresh_token".utf8))
                }
            }
            #expect(provider.tokenRequests == 0, "nothing reached the loopback provider")
        }
    }

    @Test func aPrivateTokenURLFailsTheRefreshWithoutReachingIt() async throws {
        let provider = TestOAuthProvider()
        provider.set { $0.liveRefreshTokens = ["rt-seed"] }
        try await provider.serve { baseURL in
            let fixture = try await LifecycleFixture(baseURL: baseURL)
            let id = try await fixture.oauth2Connection(expiresIn: 60)
            let guarded = CredentialLifecycle(database: fixture.log.database, service: fixture.log.service,
                                              settings: LifecycleFixture.fastSettings,
                                              http: OutboundHTTP(timeout: .seconds(60), destinations: .publicOnly),
                                              callbackURL: "http://credlog.test/v1/oauth2/callback")
            let result = try await guarded.broker.refreshIfDue(id, force: true, context: fixture.context(.system))
            guard case .failing(_, let error) = result else { Issue.record("\(result)"); return }
            #expect(error.contains("public addresses only"))
            #expect(provider.tokenRequests == 0)
        }
    }

    @Test func aValidationRefusalShowsTheStatusNotTheProvidersBody() async throws {
        let provider = TestOAuthProvider()
        try await provider.serve { baseURL in
            let fixture = try await LifecycleFixture(baseURL: baseURL)
            try await ValidationAndSweepTests.registerKeyPiece(fixture, id: "htmlkeys", displayName: "HTML Keys", path: "/validate-html")
            var key = Array(#"{"apiKey":"sk-any-1234"}"#.utf8)
            do {
                _ = try await fixture.lifecycle.service.createConnection(projectId: "acme", piece: "htmlkeys", authType: .apiKey,
                                                                         name: "Keys", credentials: &key, context: fixture.context(.member("bob")))
                Issue.record("refused by the provider, yet created")
            } catch let error as DomainError {
                #expect(error.description == "invalid: HTML Keys refused the credential (HTTP 403)" || error.description.hasSuffix("(HTTP 403)"),
                        "\(error.description)")
                #expect(!error.description.contains("SENTINEL-PROVIDER-BODY"))
            }
            #expect(provider.state.withLock { $0.htmlValidations } == 1)
            #expect(try await fixture.log.store.refusals().allSatisfy { !$0.reason.contains("SENTINEL-PROVIDER-BODY") })
        }
    }

    @Test func onlyTheOperatorsExplicitSwitchAllowsPrivateDestinations() throws {
        #expect(OutboundHTTP().destinations == .publicOnly)
        #expect(OutboundHTTP.Destinations.fromEnvironment(["CREDLOG_ALLOW_PRIVATE_DESTINATIONS": "1"]) == .anyAddress)
        for value in ["", "0", "yes", "true"] {
            #expect(OutboundHTTP.Destinations.fromEnvironment(["CREDLOG_ALLOW_PRIVATE_DESTINATIONS": value]) == .publicOnly)
        }
        #expect(OutboundHTTP.Destinations.fromEnvironment([:]) == .publicOnly)
        // A test run's switch wins over every widening.
        let loopback = ["CREDLOG_LOOPBACK_ONLY": "1", "CREDLOG_ALLOW_PRIVATE_DESTINATIONS": "1"]
        #expect(OutboundHTTP.Destinations.fromEnvironment(loopback, allowingPrivate: true) == .loopbackOnly)
    }

    /// Loopback only: a public address and a private one are refused before connecting; the
    /// loopback stand-in is reached.
    @Test func loopbackOnlyRefusesEveryOtherDestinationBeforeConnecting() async throws {
        let http = OutboundHTTP(timeout: .seconds(30), destinations: .loopbackOnly)
        for url in ["https://93.184.215.14/", "http://10.0.0.1/", "http://[2001:db8::1]/"] {
            await #expect(throws: OutboundHTTP.RefusedDestination.self, "\(url)") { _ = try await http.send(.GET, url) }
        }
        try await TestOAuthProvider().serve { baseURL in
            let answer = try await http.send(.GET, baseURL + "/validate")
            #expect(answer.status == 401)
        }
    }
}
