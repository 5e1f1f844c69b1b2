import Foundation

/// Everything that can happen to a project's membership. One stream per project.
public enum MembershipEvent: Sendable, Equatable {
    case memberAdded(MemberAdded)
    case roleChanged(RoleChanged)
    case memberRemoved(MemberRemoved)

    public struct MemberAdded: Sendable, Equatable, Codable {
        public var projectId: String
        public var memberId: String
        public var role: Role
        public init(projectId: String, memberId: String, role: Role) {
            self.projectId = projectId
            self.memberId = memberId
            self.role = role
        }
    }

    public struct RoleChanged: Sendable, Equatable, Codable {
        public var memberId: String
        public var from: Role
        public var to: Role
        public init(memberId: String, from: Role, to: Role) {
            self.memberId = memberId
            self.from = from
            self.to = to
        }
    }

    public struct MemberRemoved: Sendable, Equatable, Codable {
        public var memberId: String
        public init(memberId: String) { self.memberId = memberId }
    }
}

extension MembershipEvent: StoredEvent {
    /// The stored type names. Never rename one that has shipped.
    public enum TypeName {
        public static let memberAdded = "project.member-added"
        public static let roleChanged = "project.member-role-changed"
        public static let memberRemoved = "project.member-removed"
    }

    public var typeName: String {
        switch self {
        case .memberAdded: TypeName.memberAdded
        case .roleChanged: TypeName.roleChanged
        case .memberRemoved: TypeName.memberRemoved
        }
    }

    public func encode() throws -> EventData {
        switch self {
        case .memberAdded(let payload): EventData(type: typeName, payload: try PayloadJSON.encode(payload))
        case .roleChanged(let payload): EventData(type: typeName, payload: try PayloadJSON.encode(payload))
        case .memberRemoved(let payload): EventData(type: typeName, payload: try PayloadJSON.encode(payload))
        }
    }

    public static func decode(type: String, schemaVersion: Int, payload: Data) throws -> MembershipEvent {
        func body<T: Decodable>(_ shape: T.Type) throws -> T {
            try PayloadJSON.decode(shape, from: payload, event: type, version: schemaVersion)
        }
        switch (type, schemaVersion) {
        case (TypeName.memberAdded, 1): return .memberAdded(try body(MemberAdded.self))
        case (TypeName.roleChanged, 1): return .roleChanged(try body(RoleChanged.self))
        case (TypeName.memberRemoved, 1): return .memberRemoved(try body(MemberRemoved.self))
        default:
            throw EventDecodingError(type: type, schemaVersion: schemaVersion, reason: "unknown event type or schema version")
        }
    }
}
