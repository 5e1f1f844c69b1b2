import CredlogEvents

extension CommandService {
    /// Issues an API token for a member of the project (or the engine): the operator's act, as
    /// `system`. The `project.token-issued` event and the token's row (a keyed hash of its
    /// secret) are appended together. Returns the token text, shown once, and its record.
    public func issueToken(kind: AccessToken.Kind, memberId: String?, in projectId: String,
                           context: CommandContext) async throws -> (token: String, record: AccessToken) {
        let (token, minted) = AccessTokens.mint(kind: kind, memberId: memberId, projectId: projectId, now: context.now,
                                                key: vault.keys.accessTokenKey)
        let issued = MembershipEvent.TokenIssued(tokenId: minted.record.tokenId, kind: kind, memberId: memberId)
        _ = try await executeProject("token.issue", projectId: projectId, context: context,
                                     digest: requestDigest(["token.issue", projectId, minted.record.tokenId]),
                                     authorizingFirst: false, newAccessTokens: [minted]) { _, _ in (.issueToken(issued), nil) }
        return (token, minted.record)
    }

    /// Revokes a live token of the project: the `project.token-revoked` event marks its row
    /// revoked in the same transaction (``AccessTokens/Revoker``).
    public func revokeToken(_ tokenId: String, in projectId: String, context: CommandContext) async throws -> CommandOutcome {
        try await executeMembership(.revokeToken(id: tokenId), projectId: projectId, context: context)
    }
}
