/// What an attempt to refresh a connection's token came to.
public enum RefreshResult: Sendable, Equatable {
    /// Not an OAuth2 connection that can be refreshed, or not due.
    case notNeeded
    /// Refreshed (by this call, or by another process while this one waited).
    case refreshed
    /// The provider refused the refresh token, or failed for longer than the grace period: the
    /// connection was expired with this reason.
    case expired(reason: String)
    /// The provider failed (network, 5xx); within the grace period the connection stays Active.
    case failing(since: String, error: String)
    /// credlog cannot refresh it: no OAuth2 client is registered for its piece in its project.
    case unavailable(reason: String)
}
