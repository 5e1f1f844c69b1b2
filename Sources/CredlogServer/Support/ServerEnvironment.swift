import CredlogDomain
import CredlogEvents
import CredlogLifecycle
import CredlogProjections

/// What the server works on: the database, its event store, the command service around it and
/// the credential lifecycle (OAuth2, refresh, webhooks).
public struct ServerEnvironment: Sendable {
    public let database: any SQLDatabase
    public let store: any EventStore
    /// The command service, with the pieces' validation requests on.
    public let service: CommandService
    /// Every read of connections, their history and flows, with its visibility check.
    public let queries: QueryService
    public let lifecycle: CredentialLifecycle
    /// Signed-in browsers of the Connections page, kept in the database.
    public let sessions: SessionStore
    /// The decision time of commands (a fixed clock in tests).
    public let clock: @Sendable () -> Timestamp
    /// Whether cookies are marked `Secure`: the server is reached over https (its public URL).
    public let secureCookies: Bool
    /// Failed sign-ins and refused requests, counted per client to slow down guessing.
    let limiter: RefusalLimiter
    /// The open event streams of `GET /v1/events/stream`, capped, and their heartbeat.
    public let eventStreams: EventStreams
    /// The Prometheus registry behind `GET /metrics`, and who may scrape it.
    public let metrics: ServerMetrics
    /// The most events a projection may trail the log's head by and `/health/ready` still say
    /// ready (`serve --max-projection-lag`).
    public var maxProjectionLag: Int64 = 10_000

    /// A server over `lifecycle` and the command service it runs on; `publicURL` is where people
    /// reach it (its cookies are `Secure` when it is https). Give the log, the lifecycle and the
    /// database `metrics.factory` for their series to show at `/metrics`.
    public init(database: any SQLDatabase, store: any EventStore, lifecycle: CredentialLifecycle,
                publicURL: String = "http://127.0.0.1:8080", sessionPolicy: SessionPolicy = SessionPolicy(),
                clock: @escaping @Sendable () -> Timestamp = { .now() }, limiter: RefusalLimiter = RefusalLimiter(),
                eventStreams: EventStreams = EventStreams(), metrics: ServerMetrics = ServerMetrics()) {
        self.database = database
        self.store = store
        service = lifecycle.service
        queries = QueryService(store: store, database: database, service: lifecycle.service)
        self.lifecycle = lifecycle
        sessions = SessionStore(database: database, key: lifecycle.service.vault.keys.sessionKey, policy: sessionPolicy)
        self.clock = clock
        secureCookies = publicURL.lowercased().hasPrefix("https://")
        self.limiter = limiter
        self.eventStreams = eventStreams
        self.metrics = metrics
    }

    /// The OAuth2 redirect URI of a server reached at `publicURL`.
    public static func callbackURL(publicURL: String) -> String {
        (publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL) + "/v1/oauth2/callback"
    }

    /// What `presented` is now: a token that may act, or why not. A token let in has its last
    /// use noted (at most once a minute: ``AccessTokens/noteUse(_:at:_:)``).
    func authenticate(presenting presented: String) async throws -> TokenCheck {
        let key = service.vault.keys.accessTokenKey
        let now = clock()
        let check = try await database.read { db in try AccessTokens.check(presented, key: key, now: now, db) }
        if let token = check.token, AccessTokens.useIsStale(token, at: now) {
            try await database.write { db in try AccessTokens.noteUse(token, at: now, db) }
        }
        return check
    }
}
