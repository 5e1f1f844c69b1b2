import CredlogDomain
import CredlogEvents
import CredlogLifecycle
import CredlogProjections
import CredlogTestSupport
import Foundation
import Testing

/// Recheck: the catalogue's validation requests, asked of loopback stand-ins of each provider.
@Suite("Recheck")
struct RecheckTests {
    /// The built-in definition of `id`, its validation URL moved to the stand-in (same method,
    /// path, placement and rules), registered in `acme` as the project's own (an OAuth2 piece with
    /// the stand-in's client and token URL).
    static func standIn(_ id: String, _ fixture: LifecycleFixture) async throws -> PieceDefinition {
        var piece = try #require(PieceCatalogue.standard.builtIn[id])
        var validation = try #require(piece.validation, "\(id) has a validation request")
        #expect(validation.onConnect == false, "\(id) is checked on recheck only")
        let url = try #require(URLComponents(string: validation.url))
        validation.url = fixture.baseURL + "/" + id + url.path
        piece.validation = validation
        var secret: [UInt8]?
        if piece.oauth2 != nil {
            piece.oauth2?.tokenUrl = fixture.baseURL + "/token"
            piece.oauth2?.clientId = TestOAuthProvider.clientId
            secret = Array(TestOAuthProvider.clientSecret.utf8)
        }
        _ = try await fixture.log.service.registerPiece(piece, clientSecret: &secret, in: "acme", context: fixture.context(.member("alice")))
        return piece
    }

    @Test(arguments: ["gmail", "google-sheets", "slack", "github", "hubspot"])
    func eachCatalogueCheckAcceptsAGoodCredentialAndARefusalTurnsTheConnectionInactive(piece id: String) async throws {
        let provider = TestOAuthProvider()
        try await provider.serve { baseURL in
            let fixture = try await LifecycleFixture(baseURL: baseURL)
            let piece = try await Self.standIn(id, fixture)
            let service = fixture.lifecycle.service  // with the validator: onConnect false, so creating asks nobody
            func create(_ secret: String) async throws -> String {
                var json = Array((piece.authType == .apiKey ? #"{"apiKey":"\#(secret)"}"# : #"{"accessToken":"\#(secret)"}"#).utf8)
                return try await service.createConnection(projectId: "acme", piece: id, authType: piece.authType, name: "\(id) key",
                                                          credentials: &json, context: fixture.context(.member("bob"))).stream.connectionId ?? ""
            }
            let good = try await create(TestOAuthProvider.validKey)
            let sentinel = "SENTINEL-BAD-\(id)-7731"
            let bad = try await create(sentinel)
            #expect(provider.state.withLock { $0.checks }.isEmpty, "creating asked no provider")

            let admin = fixture.context(.member("alice"))
            let accepted = try await fixture.lifecycle.checker.check(good, context: admin)
            #expect(accepted.passed && accepted.httpStatus == 200 && accepted.active && accepted.reason == nil)
            #expect(try await fixture.log.service.loadConnection(good).state.connection?.status.isActive == true)

            let refused = try await fixture.lifecycle.checker.check(bad, context: admin)
            #expect(!refused.passed && !refused.active)
            #expect(refused.httpStatus == (id == "slack" ? 200 : 401))
            let reason = try #require(refused.reason)
            #expect(!reason.contains(sentinel), "the credential is blanked out of the provider's answer: \(reason)")
            let status = try #require(try await fixture.log.service.loadConnection(bad).state.connection?.status.reasonText)
            #expect(status.hasPrefix("expired: the provider refused it on a recheck (HTTP \(refused.httpStatus)"), "\(status)")
            #expect(provider.state.withLock { $0.checks }.count == 2)

            // The answers are in the log (passed, refused + expired), with when it was last checked.
            let types = try await fixture.log.allEvents().suffix(3).map(\.type)
            #expect(types == [ConnectionEvent.TypeName.checked, ConnectionEvent.TypeName.checked, ConnectionEvent.TypeName.expired])
            let detail = try await QueryService(store: fixture.log.store, database: fixture.log.database, service: fixture.log.service)
                .connection(good, for: .init(.member("bob"), projectScope: "acme"))
            #expect(detail.lastCheck == "passed (HTTP 200)" && detail.lastCheckedAt == fixture.now.iso8601)
            #expect(!(try await fixture.log.storedBytes()).contains(bytes: Array(sentinel.utf8)), "only sealed")
        }
    }

    @Test func anOAuth2TokenDueForRefreshIsRefreshedBeforeTheCheck() async throws {
        let provider = TestOAuthProvider()
        provider.set { $0.liveRefreshTokens = ["rt-live"] }
        try await provider.serve { baseURL in
            let fixture = try await LifecycleFixture(baseURL: baseURL)
            _ = try await Self.standIn("gmail", fixture)
            let expiry = (fixture.now + .seconds(60)).iso8601
            var json = Array(#"{"accessToken":"at-stale","refreshToken":"rt-live","expiresAt":"\#(expiry)"}"#.utf8)
            let id = try await fixture.log.service.createConnection(projectId: "acme", piece: "gmail", authType: .oauth2, name: "Mail",
                                                                   credentials: &json, context: fixture.context(.member("bob"))).stream.connectionId ?? ""
            let result = try await fixture.lifecycle.checker.check(id, context: fixture.context(.member("alice")))
            #expect(provider.refreshGrants == 1)
            #expect(result.passed, "the refreshed token was checked, not the stale one")
            let types = try await fixture.log.allEvents().suffix(2).map(\.type)
            #expect(types == [ConnectionEvent.TypeName.tokenRefreshed, ConnectionEvent.TypeName.checked])
        }
    }

    @Test func whatCannotBeCheckedIsRefusedOrUnansweredAndAppendsNothing() async throws {
        let provider = TestOAuthProvider()
        try await provider.serve { baseURL in
            let fixture = try await LifecycleFixture(baseURL: baseURL)
            _ = try await Self.standIn("hubspot", fixture)
            let service = fixture.log.service
            var key = Array(#"{"apiKey":"\#(TestOAuthProvider.validKey)"}"#.utf8)
            let hubspot = try await service.createConnection(projectId: "acme", piece: "hubspot", authType: .apiKey, name: "CRM",
                                                             credentials: &key, context: fixture.context(.member("bob"))).stream.connectionId ?? ""
            var pair = Array(#"{"username":"u","password":"p"}"#.utf8)
            let smtp = try await service.createConnection(projectId: "acme", piece: "smtp", authType: .basic, name: "Relay",
                                                          credentials: &pair, context: fixture.context(.member("bob"))).stream.connectionId ?? ""
            let before = try await fixture.log.eventCount()
            let checker = fixture.lifecycle.checker
            await #expect(throws: DomainError.forbidden("only admins of the project and the system may check a connection; bob is member")) {
                _ = try await checker.check(hubspot, context: fixture.context(.member("bob")))
            }
            await #expect(throws: DomainError.self, "no validation request for smtp") {
                _ = try await checker.check(smtp, context: fixture.context(.member("alice")))
            }
            await #expect(throws: DomainError.notFound("connection conn_nope")) {
                _ = try await checker.check("conn_nope", context: fixture.context(.member("alice")))
            }
            #expect(provider.state.withLock { $0.checks }.isEmpty, "no refused caller reached the provider")
            // A stand-in that is gone says nothing about the credential.
            let gone = try await LifecycleFixture(baseURL: "http://127.0.0.1:9", timeout: .seconds(2))  // refused or timed out: unanswered either way
            _ = try await Self.standIn("hubspot", gone)
            var other = Array(#"{"apiKey":"k-1"}"#.utf8)
            let unreachable = try await gone.log.service.createConnection(projectId: "acme", piece: "hubspot", authType: .apiKey, name: "CRM",
                                                                          credentials: &other, context: gone.context(.member("bob"))).stream.connectionId ?? ""
            let goneBefore = try await gone.log.eventCount()
            await #expect(throws: HTTPCredentialValidator.Unanswered.self) {
                _ = try await gone.lifecycle.checker.check(unreachable, context: gone.context(.member("alice")))
            }
            #expect(try await gone.log.eventCount() == goneBefore)
            #expect(try await gone.log.service.loadConnection(unreachable).state.connection?.status.isActive == true)
            #expect(try await fixture.log.eventCount() == before)
        }
    }

    @Test func theSweeperRechecksWhatWasNotCheckedForADayWhenAskedTo() async throws {
        let provider = TestOAuthProvider()
        try await provider.serve { baseURL in
            var settings = LifecycleFixture.fastSettings
            settings.recheckEvery = .seconds(86_400)
            let fixture = try await LifecycleFixture(baseURL: baseURL, settings: settings)
            _ = try await Self.standIn("hubspot", fixture)
            var key = Array(#"{"apiKey":"\#(TestOAuthProvider.validKey)"}"#.utf8)
            let id = try await fixture.log.service.createConnection(projectId: "acme", piece: "hubspot", authType: .apiKey, name: "CRM",
                                                                   credentials: &key, context: fixture.context(.member("bob"))).stream.connectionId ?? ""
            #expect(try await fixture.lifecycle.round(now: fixture.now, sweeping: true).sweep?.rechecked == [:], "set just now")
            fixture.advance(86_400)
            #expect(try await fixture.lifecycle.round(now: fixture.now, sweeping: true).sweep?.rechecked == [id: true])
            fixture.advance(3_600)
            #expect(try await fixture.lifecycle.round(now: fixture.now, sweeping: true).sweep?.rechecked == [:], "checked an hour ago")
            let checked = try await fixture.log.allEvents().filter { $0.type == ConnectionEvent.TypeName.checked }
            #expect(checked.count == 1 && checked.first?.actor == .system)
        }
    }
}
