import CredlogEvents

/// A project, as its stream leaves it: members, registered pieces, webhooks, live API tokens.
public struct ProjectState: Sendable, Equatable {
    public var exists: Bool
    public var members: [String: Role]
    /// Pieces registered by the project's admins, by piece id (the latest registration wins).
    public var pieces: [String: MembershipEvent.PieceRegistered] = [:]
    /// The webhooks told of status changes, by webhook id.
    public var webhooks: [String: MembershipEvent.WebhookAdded] = [:]
    /// The API tokens issued for the project and not revoked, by token id.
    public var tokens: [String: MembershipEvent.TokenIssued] = [:]

    public static let initial = ProjectState(exists: false, members: [:])

    public var adminCount: Int { members.values.filter { $0 == .admin }.count }

    /// Applies one event.
    public static func evolve(_ state: ProjectState, _ event: MembershipEvent) -> ProjectState {
        var state = state
        switch event {
        case .memberAdded(let added):
            state.exists = true
            state.members[added.memberId] = added.role
        case .roleChanged(let changed): state.members[changed.memberId] = changed.to
        case .memberRemoved(let removed): state.members[removed.memberId] = nil
        case .pieceRegistered(let registered): state.pieces[registered.piece.id] = registered
        case .webhookAdded(let added): state.webhooks[added.webhookId] = added
        case .webhookRemoved(let removed): state.webhooks[removed.webhookId] = nil
        case .tokenIssued(let issued): state.tokens[issued.tokenId] = issued
        case .tokenRevoked(let revoked): state.tokens[revoked.tokenId] = nil
        case .tokenRotated: break  // a new secret for the same token: who it is and what it may do stay
        }
        return state
    }

    public static func fold(_ events: some Sequence<MembershipEvent>) -> ProjectState {
        events.reduce(initial, evolve)
    }
}
