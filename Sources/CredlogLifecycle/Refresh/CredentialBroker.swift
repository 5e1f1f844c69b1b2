import CredlogDomain
import CredlogEvents
import Foundation

/// Hands credentials to the engine, refreshing an OAuth2 token first when it expires within
/// ``LifecycleSettings/refreshLead``; and refreshes on the sweeper's behalf.
///
/// However many callers ask at once, in this process or others on the same database, one
/// refresh reaches the provider: callers in this process share one flight, processes take turns
/// through a lease, and whoever waited sees the new credential's fingerprint and stops.
public struct CredentialBroker: Sendable {
    let service: CommandService
    let pieces: ProjectPieces
    let client: OAuth2Client
    let settings: LifecycleSettings
    let lease: RefreshLease
    let failures: RefreshFailures
    let flights = RefreshFlights()
    let metrics: LifecycleMetrics

    public init(service: CommandService, database: any SQLDatabase, client: OAuth2Client, settings: LifecycleSettings = .init(),
                metrics: LifecycleMetrics = .none) {
        self.service = service
        self.metrics = metrics
        pieces = ProjectPieces(service: service)
        self.client = client
        self.settings = settings
        lease = RefreshLease(database: database, holder: "holder-" + Sodium.randomText(12))
        failures = RefreshFailures(database: database)
    }

    /// The plaintext credentials for the engine (refreshed first when due); each read is audited.
    /// Anyone else is refused as ``CommandService/revealCredentials(_:context:)`` refuses. The caller wipes them.
    public func credentials(_ id: String, context: CommandContext) async throws -> [UInt8] {
        if case .engine = context.principal, case .live(let connection) = try await service.loadConnection(id).state,
           context.mayReach(connection.projectId), Self.isDue(connection, now: context.now, lead: settings.refreshLead) {
            _ = try await refresh(id, fingerprint: connection.credentials.fingerprint, context: context)
        }
        // Refused, or inactive (perhaps expired just now by the refresh): revealing throws.
        return try await service.revealCredentials(id, context: context)
    }

    /// Refreshes the connection's token if it is due, or whatever its expiry when `force` (the
    /// sweeper's daily refresh). `context.principal` is recorded on the refresh event.
    public func refreshIfDue(_ id: String, force: Bool, context: CommandContext) async throws -> RefreshResult {
        let (state, _) = try await service.loadConnection(id)
        guard case .live(let connection) = state, force || Self.isDue(connection, now: context.now, lead: settings.refreshLead)
        else { return .notNeeded }
        return try await refresh(id, fingerprint: connection.credentials.fingerprint, context: context)
    }

    /// An active OAuth2 connection with a refresh token, expiring within `lead` — or within
    /// half its token's lifetime when that is shorter, so that a token just issued is never due
    /// (a provider issuing 10-minute tokens would otherwise be asked on every read).
    static func isDue(_ connection: Connection, now: Timestamp, lead: Duration) -> Bool {
        guard connection.authType == .oauth2, connection.status.isActive, connection.credentials.refreshable == true,
              let expiry = connection.credentials.expiresAt.flatMap(Timestamp.init(iso8601:)) else { return false }
        return expiry <= now + effectiveLead(connection.credentials, expiry: expiry, lead: lead)
    }

    /// `lead`, at most half of the credential's lifetime where credlog knows when it was issued.
    static func effectiveLead(_ credentials: SealedCredentials, expiry: Timestamp, lead: Duration) -> Duration {
        guard let issued = credentials.issuedAt.flatMap(Timestamp.init(iso8601:)) else { return lead }
        let halfLifetime = Duration.microseconds(max(0, expiry.microseconds - issued.microseconds) / 2)
        return min(lead, halfLifetime)
    }

    /// One flight per connection here, one lease holder across processes; stops as soon as the
    /// credential `fingerprint` was replaced by someone else.
    private func refresh(_ id: String, fingerprint: String, context: CommandContext) async throws -> RefreshResult {
        try await flights.run(id) {
            if let recent = try await failures.recent(id, now: context.now, quiet: settings.quietAfterFailure) {
                return .failing(since: recent.since, error: recent.error)
            }
            while true {
                if let settled = try await settled(id, fingerprint) { return settled }
                if try await lease.acquire(id, now: .now(), for: settings.leaseTime) {
                    do {
                        var result = try await settled(id, fingerprint)
                        if result == nil { result = try await refreshHoldingLease(id, context: context) }
                        try await lease.release(id)
                        return result ?? .notNeeded
                    } catch {
                        try? await lease.release(id)
                        throw error
                    }
                }
                try await Task.sleep(for: .milliseconds(25))
            }
        }
    }

    /// What became of the credential with `fingerprint` while this caller waited: replaced
    /// (refreshed by someone else), or its connection expired, revoked or deleted; `nil` when it
    /// is still the current one of an active connection.
    private func settled(_ id: String, _ fingerprint: String) async throws -> RefreshResult? {
        guard case .live(let connection) = try await service.loadConnection(id).state else { return .notNeeded }
        if case .inactive(let inactive) = connection.status { return .expired(reason: inactive.reason) }
        return connection.credentials.fingerprint == fingerprint ? nil : .refreshed
    }

    private func refreshHoldingLease(_ id: String, context: CommandContext) async throws -> RefreshResult {
        let current = try await service.withCurrentCredential(id) { connection, plaintext in
            (connection, try? JSONDecoder().decode(StoredOAuth2Credentials.self, from: Data(plaintext)))
        }
        guard let (connection, stored) = current, let refreshToken = stored?.refreshToken else { return .notNeeded }
        let oauth: OAuth2Client.Registration
        do {
            oauth = try await pieces.oauth2Client(for: connection.piece, in: connection.projectId)
        } catch let error as DomainError {
            return .unavailable(reason: error.description)
        }

        var lastFailure: OAuth2Client.Failure?
        for attempt in 0..<max(1, settings.attempts) {
            if attempt > 0 { try await Task.sleep(for: settings.retryDelay * (1 << (attempt - 1))) }
            let grant: TokenGrant
            metrics.refreshAttempted(piece: connection.piece)
            do {
                grant = try await client.refresh(refreshToken: refreshToken, client: oauth)
            } catch let failure {
                lastFailure = failure
                metrics.refreshFailed(piece: connection.piece, refused: !failure.isTransient)
                guard failure.isTransient else { break }
                continue
            }
            var json = try grant.credentialJSON(now: context.now, previousRefreshToken: refreshToken)
            _ = try await service.recordRefresh(id, credentials: &json, replacing: connection.credentials.fingerprint,
                                                context: relay(context))
            try await failures.clear(id)
            return .refreshed
        }
        guard let lastFailure else { return .notNeeded }
        if case .invalidGrant = lastFailure {
            return try await expire(id, reason: "refresh token refused: \(lastFailure)", context: context)
        }
        let since = try await failures.record(id, now: context.now, error: lastFailure.description)
        if context.now >= since + settings.gracePeriod {
            return try await expire(id, reason: "token refresh failing since \(since.iso8601): \(lastFailure)", context: context)
        }
        return .failing(since: since.iso8601, error: lastFailure.description)
    }

    private func expire(_ id: String, reason: String, context: CommandContext) async throws -> RefreshResult {
        var systemContext = relay(context)
        systemContext.principal = .system
        _ = try await service.expire(id, reason: DisplayText.reason.fitting(reason), context: systemContext)
        try await failures.clear(id)
        return .expired(reason: reason)
    }

    /// A context for the commands a refresh appends: same caller, time and correlation, no
    /// idempotency key or version of the request that triggered it.
    private func relay(_ context: CommandContext) -> CommandContext {
        CommandContext(principal: context.principal, now: context.now, correlationId: context.correlationId,
                       projectScope: context.projectScope, via: context.via)
    }
}
