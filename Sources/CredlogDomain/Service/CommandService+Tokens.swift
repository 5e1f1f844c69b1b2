import CredlogEvents

extension CommandService {
    /// Issues an API token for a member of the project (or the engine). The operator issues any
    /// (as `system`); an admin issues member tokens that expire within a year. The
    /// `project.token-issued` event and the token's row (a keyed hash of its secret) are appended
    /// together. Returns the token text, shown once, and its record.
    public func issueToken(kind: AccessToken.Kind, memberId: String?, scope: AccessToken.Scope = .full, expiresAt: Timestamp? = nil,
                           in projectId: String, context: CommandContext) async throws -> (token: String, record: AccessToken) {
        let (token, minted) = AccessTokens.mint(kind: kind, memberId: memberId, projectId: projectId, scope: scope, expiresAt: expiresAt,
                                                now: context.now, key: vault.keys.accessTokenKey)
        let issued = MembershipEvent.TokenIssued(tokenId: minted.record.tokenId, kind: kind, memberId: memberId, scope: scope,
                                                 expiresAt: expiresAt?.iso8601)
        _ = try await executeProject("token.issue", projectId: projectId, context: context,
                                     digest: requestDigest(["token.issue", projectId, minted.record.tokenId]),
                                     authorizingFirst: false, accessTokenChanges: [.issue(minted)]) { _, _ in
            (.issueToken(issued, now: context.now), nil)
        }
        return (token, minted.record)
    }

    /// Gives a live token of the project a new secret (returned, shown once); the former one is
    /// accepted until `grace` has passed, so whoever holds it can switch without a gap. The
    /// operator rotates any token, an admin member tokens.
    public func rotateToken(_ tokenId: String, grace: Duration = TokenRules.defaultGrace, in projectId: String,
                            context: CommandContext) async throws -> String {
        let (token, secretHash) = AccessTokens.secret(for: tokenId, key: vault.keys.accessTokenKey)
        let previousValidUntil = context.now + grace
        // A new secret each time: a retry under the same idempotency key is refused, not answered
        // with a secret that was never stored.
        _ = try await executeProject("token.rotate", projectId: projectId, context: context,
                                     digest: requestDigest(["token.rotate", projectId, tokenId, Sodium.randomText(16)]),
                                     authorizingFirst: false,
                                     accessTokenChanges: [.rotate(tokenId: tokenId, secretHash: secretHash, previousValidUntil: previousValidUntil)]) { _, _ in
            (.rotateToken(id: tokenId, previousValidUntil: previousValidUntil, now: context.now), nil)
        }
        return token
    }

    /// Revokes a live token of the project (the operator, or an admin): the `project.token-revoked`
    /// event marks its row revoked in the same transaction (``AccessTokens/Revoker``), and every
    /// request and session of it stops.
    public func revokeToken(_ tokenId: String, in projectId: String, context: CommandContext) async throws -> CommandOutcome {
        try await executeMembership(.revokeToken(id: tokenId), projectId: projectId, context: context)
    }
}
