import CredlogEvents

/// A project's membership, as its stream leaves it.
public struct ProjectState: Sendable, Equatable {
    public var exists: Bool
    public var members: [String: Role]

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
        }
        return state
    }

    public static func fold(_ events: some Sequence<MembershipEvent>) -> ProjectState {
        events.reduce(initial, evolve)
    }
}
