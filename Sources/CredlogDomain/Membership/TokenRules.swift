import CredlogEvents

/// The limits on API tokens' lifetimes and rotations. Pure.
public enum TokenRules {
    /// The longest a token may live.
    public static let maxLifetime: Duration = .seconds(3650 * 86_400)
    /// The longest a token issued by an admin (through the API) may live: admins' tokens always
    /// expire; only the operator issues one that does not.
    public static let maxAdminLifetime: Duration = .seconds(365 * 86_400)
    /// What the API gives a token when the request names no lifetime.
    public static let defaultAdminLifetime: Duration = .seconds(90 * 86_400)
    /// The longest a rotated token's former secret stays valid.
    public static let maxGrace: Duration = .seconds(7 * 86_400)
    /// The grace period when none is asked for.
    public static let defaultGrace: Duration = .seconds(3600)

    /// An admin gets the secret of a full token that acts as themselves only: a full token of
    /// another member would let them act under that member's name in the log. Read-only tokens
    /// (a dashboard reading as a member) they may get for anyone; the operator, any token.
    static func checkActingAs(_ token: MembershipEvent.TokenIssued, by caller: Caller, action: String) throws(DomainError) {
        guard case .member(let admin, _) = caller, token.effectiveScope == .full, token.memberId != admin else { return }
        throw DomainError.forbidden("an admin \(action) full tokens for themselves only (and read-only ones for any member); "
                                    + "a full token acting as \(token.memberId ?? "another member") is the operator's to issue")
    }

    /// Refuses an expiry in the past, beyond ``maxLifetime``, or (for an admin) absent or
    /// beyond ``maxAdminLifetime``.
    static func checkExpiry(_ expiresAt: String?, now: Timestamp, issuedBy caller: Caller) throws(DomainError) {
        let isOperator = caller == .system
        guard let expiresAt else {
            if isOperator { return }
            throw DomainError.invalid("a token issued through the API expires (in at most 365 days)")
        }
        guard let end = Timestamp(iso8601: expiresAt), now < end else { throw DomainError.invalid("a token's expiry is in the future") }
        let longest = isOperator ? maxLifetime : maxAdminLifetime
        guard end <= now + longest else {
            throw DomainError.invalid("a token lives at most \(longest.components.seconds / 86_400) days")
        }
    }

    /// Refuses a grace period that ends before `now` or more than ``maxGrace`` after it.
    static func checkGrace(until end: Timestamp, now: Timestamp) throws(DomainError) {
        guard !(end < now), end <= now + maxGrace else {
            throw DomainError.invalid("the former secret stays valid for 0 minutes to 7 days")
        }
    }
}
