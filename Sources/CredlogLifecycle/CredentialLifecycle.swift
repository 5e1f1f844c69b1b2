import CredlogDomain
import CredlogEvents
import CredlogProjections

/// The credential lifecycle on one database, assembled: the engine's broker (refresh on read),
/// the sweeper, the webhook feed and dispatcher, and the OAuth2 flow.
public struct CredentialLifecycle: Sendable {
    /// The command service it runs commands through (with the validator it was given, if any:
    /// `credlog`'s workspace attaches ``HTTPCredentialValidator``).
    public let service: CommandService
    public let broker: CredentialBroker
    public let sweeper: Sweeper
    public let feed: WebhookFeed
    public let dispatcher: WebhookDispatcher
    public let oauth2: OAuth2Flow
    /// Recheck: asks a connection's provider whether its credential still works.
    public let checker: ConnectionChecker
    public let settings: LifecycleSettings
    /// Where refreshes, deliveries and sweeps are counted.
    public let metrics: LifecycleMetrics
    let database: any SQLDatabase

    /// - Parameters:
    ///   - callbackURL: credlog's public `/v1/oauth2/callback` URL, registered at providers.
    ///   - metrics: where refreshes, deliveries and sweeps are counted (nowhere by default).
    public init(database: any SQLDatabase, service: CommandService, settings: LifecycleSettings = .init(),
                http: OutboundHTTP = OutboundHTTP(destinations: .publicOnly), webhookPolicy: WebhookDispatcher.Policy = .init(), callbackURL: CallbackURL,
                metrics: LifecycleMetrics = .none) {
        let client = OAuth2Client(http: http)
        self.service = service
        self.metrics = metrics
        broker = CredentialBroker(service: service, database: database, client: client, settings: settings, metrics: metrics)
        checker = ConnectionChecker(service: service, broker: broker, validator: HTTPCredentialValidator(http: http))
        sweeper = Sweeper(database: database, service: service, broker: broker, checker: checker, settings: settings)
        feed = WebhookFeed(database: database)
        dispatcher = WebhookDispatcher(database: database, http: http, service: service, policy: webhookPolicy)
        oauth2 = OAuth2Flow(service: service, authorizations: OAuth2Authorizations(database: database), client: client,
                            callbackURL: callbackURL)
        self.settings = settings
        self.database = database
    }

    /// Active connections whose credential expires before `until`, in `projects` (`nil`: all); one
    /// renews itself only if it has a refresh token and its piece a registered OAuth2 client.
    public func expiring(before until: Timestamp, projects: [String]?) async throws -> [ExpiringConnection] {
        var rows = try await database.read { db in try ExpiringQuery.connections(expiringBefore: until, projects: projects, db) }
        var clients: [String: Set<String>] = [:]
        for index in rows.indices where rows[index].renewsItself {
            let project = rows[index].projectId
            if clients[project] == nil {
                let state = try await service.loadProject(project).state
                clients[project] = Set(service.pieces.pieces(in: state).filter(\.hasOAuth2Client).map(\.id))
            }
            rows[index].renewsItself = clients[project]?.contains(rows[index].piece) == true
        }
        return rows
    }

    /// What one round did.
    public struct Round: Sendable {
        public var sweep: Sweeper.Report?
        public var enqueued: Int
        public var deliveries: [WebhookDispatcher.Attempt]
    }

    /// One round: sweep (when `sweeping`), then enqueue notifications from the log and send those due.
    public func round(now: Timestamp, sweeping: Bool) async throws -> Round {
        let report = sweeping ? try await measuredSweep(now: now) : nil
        let enqueued = try await feed.advance()
        let deliveries = try await dispatcher.deliverDue(now: now)
        for attempt in deliveries { metrics.delivery(succeeded: attempt.delivered) }
        return Round(sweep: report, enqueued: enqueued, deliveries: deliveries)
    }

    /// A sweep, counted and timed; one that throws counts as failed.
    private func measuredSweep(now: Timestamp) async throws -> Sweeper.Report {
        let start = ContinuousClock.now
        do {
            let report = try await sweeper.sweep(now: now)
            metrics.sweep(failed: false, took: ContinuousClock.now - start)
            return report
        } catch {
            metrics.sweep(failed: true, took: ContinuousClock.now - start)
            throw error
        }
    }
}
