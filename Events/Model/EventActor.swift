/// A member's role in one project.
public enum Role: String, Sendable, Codable, CaseIterable {
    case admin
    case member
}

/// Who caused an event, as recorded in the log: a member with the role they held
/// at that moment, or one of the two machine actors.
public enum EventActor: Sendable, Equatable, Hashable, CustomStringConvertible {
    case member(String, Role)
    /// credlog itself or an operator acting on the database (schedules, project creation).
    case system
    /// The flow engine that runs pieces.
    case engine

    /// The identifier stored in the log's `actor_id` column.
    public var id: String {
        switch self {
        case .member(let id, _): id
        case .system: "system"
        case .engine: "engine"
        }
    }

    /// The role stored in the log's `actor_role` column.
    public var roleName: String {
        switch self {
        case .member(_, let role): role.rawValue
        case .system: "system"
        case .engine: "engine"
        }
    }

    /// Rebuilds an actor from the two stored columns; `nil` if they make no sense.
    public init?(id: String, roleName: String) {
        switch roleName {
        case "system" where id == "system": self = .system
        case "engine" where id == "engine": self = .engine
        default:
            guard let role = Role(rawValue: roleName) else { return nil }
            self = .member(id, role)
        }
    }

    public var description: String {
        switch self {
        case .member(let id, let role): "\(id) (\(role.rawValue))"
        case .system, .engine: id
        }
    }
}
