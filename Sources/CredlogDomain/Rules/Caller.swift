import CredlogEvents

/// Who is asking, before their role in a project is known.
public enum Principal: Sendable, Hashable, CustomStringConvertible {
    case member(String)
    case system
    case engine

    /// Parses `system`, `engine` or a member id.
    public init(_ text: String) throws(DomainError) {
        switch text {
        case "system": self = .system
        case "engine": self = .engine
        default: self = .member(try Identifier.member(text))
        }
    }

    public var id: String {
        switch self {
        case .member(let id): id
        case .system: "system"
        case .engine: "engine"
        }
    }

    public var description: String { id }
}

/// A principal as seen from one project: a member with a role, an outsider, or a machine actor.
public enum Caller: Sendable, Equatable {
    case member(String, Role)
    /// Not a member of the project: its data must look absent to them.
    case outsider(String)
    case system
    case engine

    /// Resolves a principal against a project's members.
    public init(_ principal: Principal, in project: ProjectState) {
        switch principal {
        case .member(let id): self = project.members[id].map { .member(id, $0) } ?? .outsider(id)
        case .system: self = .system
        case .engine: self = .engine
        }
    }

    /// The actor recorded on events this caller causes (`nil` for an outsider, who causes none).
    public var actor: EventActor? {
        switch self {
        case .member(let id, let role): .member(id, role)
        case .outsider: nil
        case .system: .system
        case .engine: .engine
        }
    }

    public var id: String {
        switch self {
        case .member(let id, _), .outsider(let id): id
        case .system: "system"
        case .engine: "engine"
        }
    }

    /// The role column of an audit record.
    public var roleName: String {
        switch self {
        case .member(_, let role): role.rawValue
        case .outsider: "outsider"
        case .system: "system"
        case .engine: "engine"
        }
    }
}
