import AsyncHTTPClient
import CredlogDomain
import CredlogEvents
import CredlogLifecycle
import CredlogServer
import CredlogTestSupport
import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization

/// A temporary credlog (project `acme`: alice admin, bob member) whose project registered the
/// piece `testmail`, an OAuth2 client of the loopback ``TestOAuthProvider``.
final class LifecycleFixture: @unchecked Sendable {
    let log: TemporaryLog
    let baseURL: String
    let lifecycle: CredentialLifecycle
    /// The decision time of commands and lifecycle rounds; tests move it.
    let clock: Mutex<Timestamp>
    /// Years ahead of the real clock: the seeding records some events at the real time, and an
    /// event's time never goes back along the log (a start of 2026-11-22T10:00Z failed once the
    /// real clock passed it).
    static let start = Timestamp(iso8601: "2036-11-22T10:00:00Z")!

    /// Where the log, the lifecycle and the server record their series (`nil`: nowhere).
    let metrics: ServerMetrics?

    init(baseURL: String, settings: LifecycleSettings = LifecycleFixture.fastSettings,
         timeout: Duration = .seconds(60), clientAuthentication: String = "body", metrics: ServerMetrics? = nil) async throws {
        log = try await TemporaryLog(metrics: metrics?.factory)
        self.metrics = metrics
        self.baseURL = baseURL
        clock = Mutex(Self.start)
        try await log.seedProject("acme")
        var secret: [UInt8]? = Array(TestOAuthProvider.clientSecret.utf8)
        let piece = try JSONDecoder().decode(PieceDefinition.self, from: Data(
            TestOAuthProvider.piece(baseURL: baseURL, clientAuthentication: clientAuthentication).utf8))
        _ = try await log.service.registerPiece(piece, clientSecret: &secret, in: "acme",
                                                context: CommandContext(principal: .member("alice"), now: Self.start))
        let http = OutboundHTTP(timeout: timeout, destinations: .anyAddress)
        lifecycle = CredentialLifecycle(database: log.database, service: log.service.validating(with: HTTPCredentialValidator(http: http)),
                                        settings: settings, http: http, callbackURL: "http://credlog.test/v1/oauth2/callback",
                                        metrics: metrics.map { LifecycleMetrics(factory: $0.factory) } ?? .none)
    }

    /// Quick retries, for tests.
    static var fastSettings: LifecycleSettings {
        var settings = LifecycleSettings()
        settings.attempts = 2
        settings.retryDelay = .milliseconds(10)
        return settings
    }

    var now: Timestamp { clock.withLock { $0 } }

    /// Moves the clock forward.
    func advance(_ seconds: Int64) {
        clock.withLock { $0 = Timestamp(microseconds: $0.microseconds + seconds * 1_000_000) }
    }

    func context(_ principal: Principal) -> CommandContext {
        CommandContext(principal: principal, now: now, projectScope: "acme")
    }

    /// A `testmail` connection made by bob with these tokens (the refresh token must be live at the provider).
    func oauth2Connection(accessToken: String = "at-seed", refreshToken: String? = "rt-seed", expiresIn seconds: Int64) async throws -> String {
        let expiry = Timestamp(microseconds: now.microseconds + seconds * 1_000_000).iso8601
        let refresh = refreshToken.map { #","refreshToken":"\#($0)""# } ?? ""
        var json = Array(#"{"accessToken":"\#(accessToken)"\#(refresh),"expiresAt":"\#(expiry)"}"#.utf8)
        let outcome = try await log.service.createConnection(projectId: "acme", piece: "testmail", authType: .oauth2, name: "Test Mail",
                                                             credentials: &json, context: context(.member("bob")))
        return outcome.stream.connectionId ?? ""
    }

    /// The credential JSON the engine is handed (through the broker).
    func engineRead(_ id: String) async throws -> [String: Any] {
        let bytes = try await lifecycle.broker.credentials(id, context: context(.engine))
        return try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] ?? [:]
    }

    func state(_ id: String) async throws -> Connection? {
        try await log.service.loadConnection(id).state.connection
    }

    func eventTypes(_ id: String) async throws -> [String] {
        try await log.store.readStream(.connection(id), from: 1).map(\.type)
    }

    /// Every line the server logged.
    let serverLog = LogCapture()

    /// The server over this fixture (its clock), in Hummingbird's router test mode (or on a real
    /// loopback port with `.live`).
    func server(_ mode: TestingSetup = .router, _ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let environment = ServerEnvironment(database: log.database, store: log.store, lifecycle: lifecycle,
                                            clock: { [self] in now }, metrics: metrics ?? ServerMetrics())
        var logger = Logger(label: "credlog-test") { [serverLog] _ in serverLog.handler() }
        logger.logLevel = .trace
        let app = Application(router: try await CredlogServer.router(environment), logger: logger)
        try await app.test(mode) { client in try await body(client) }
    }

    /// Issues a bearer token.
    func token(member: String?) async throws -> String {
        try await log.issueToken(member: member).token
    }
}

/// An HTTP client that does not follow redirects: the test reads the provider's redirect itself,
/// as a browser would before going to credlog's callback.
let noRedirects = HTTPClient(eventLoopGroupProvider: .singleton,
                             configuration: .init(redirectConfiguration: .disallow))

/// Plays the person at the provider's consent page: opens the authorization URL and returns the
/// path and query the provider redirects to (credlog's callback).
func consent(at authorizationURL: String) async throws -> String {
    let response = try await noRedirects.execute(HTTPClientRequest(url: authorizationURL), timeout: .seconds(120))
    guard response.status.code == 302, let location = response.headers.first(name: "location"),
          let components = URLComponents(string: location) else {
        throw TestProviderError("the provider did not redirect (HTTP \(response.status.code))")
    }
    return components.path + "?" + (components.percentEncodedQuery ?? "")
}
