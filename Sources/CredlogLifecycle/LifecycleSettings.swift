/// The timings of the credential lifecycle.
public struct LifecycleSettings: Sendable {
    /// An OAuth2 token expiring within this is refreshed before it is handed out (or by the sweeper).
    public var refreshLead: Duration = .seconds(15 * 60)
    /// Every OAuth2 connection is refreshed at least this often, so providers keep idle refresh tokens.
    public var idleRefresh: Duration = .seconds(24 * 3600)
    /// How long a provider may fail refreshes (network errors, 5xx) before the connection is expired.
    public var gracePeriod: Duration = .seconds(3600)
    /// Attempts of one refresh when the provider fails, and the wait before the second (doubling).
    public var attempts: Int = 3
    public var retryDelay: Duration = .milliseconds(250)
    /// After a failed refresh, how long callers get the current token without asking the provider
    /// again (so an outage does not slow every credential read by the retries and timeouts).
    public var quietAfterFailure: Duration = .seconds(30)
    /// How long one process may hold a connection's refresh (longer than its attempts can take).
    public var leaseTime: Duration = .seconds(120)
    /// How often `credlog serve` sweeps (refreshes ahead of expiry, expires API keys).
    public var sweepInterval: Duration = .seconds(60)
    /// When set, the sweeper rechecks each active connection of a catalogued piece with a
    /// validation request this often (`--recheck-every 24h`); off by default: a recheck asks the
    /// provider, and its refusal turns the connection Inactive.
    public var recheckEvery: Duration?
    /// The most connections one sweep rechecks (the rest wait for the next sweep).
    public var rechecksPerSweep = 50

    public init() {}
}
