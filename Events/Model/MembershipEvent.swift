import Foundation

/// Everything that can happen to a project: its members, the pieces it registered, its
/// webhooks, the API tokens issued for it. One stream per project.
public enum MembershipEvent: Sendable, Equatable {
    case memberAdded(MemberAdded)
    case roleChanged(RoleChanged)
    case memberRemoved(MemberRemoved)
    case pieceRegistered(PieceRegistered)
    case webhookAdded(WebhookAdded)
    case webhookRemoved(WebhookRemoved)
    case tokenIssued(TokenIssued)
    case tokenRevoked(TokenRevoked)
    case tokenRotated(TokenRotated)

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

    /// An admin registered a piece for the project (or its own OAuth2 client for a catalogued one).
    public struct PieceRegistered: Sendable, Equatable, Codable {
        public var piece: PieceDefinition
        /// The OAuth2 client secret, sealed for this event of the project's stream.
        public var clientSecret: SealedCredentials?
        public init(piece: PieceDefinition, clientSecret: SealedCredentials?) {
            self.piece = piece
            self.clientSecret = clientSecret
        }
    }

    /// A URL that hears when the project's connections turn Inactive or recover, and is warned
    /// `warnDaysAhead` days before a credential credlog cannot renew expires. Its signing secret
    /// is sealed for this event of the project's stream.
    public struct WebhookAdded: Sendable, Equatable, Codable {
        public var webhookId: String
        public var url: String
        public var secret: SealedCredentials
        /// Days of warning before an expiry; absent in events written before it existed
        /// (read as ``defaultWarnDaysAhead``).
        public var warnDaysAhead: Int?
        public init(webhookId: String, url: String, secret: SealedCredentials, warnDaysAhead: Int? = nil) {
            self.webhookId = webhookId
            self.url = url
            self.secret = secret
            self.warnDaysAhead = warnDaysAhead
        }

        public static let defaultWarnDaysAhead = 7
        /// The leads a webhook may have, in days.
        public static let warnDaysAheadRange = 1...90
        /// The warning's lead, in days.
        public var warningLead: Int { warnDaysAhead ?? Self.defaultWarnDaysAhead }
    }

    public struct WebhookRemoved: Sendable, Equatable, Codable {
        public var webhookId: String
        public init(webhookId: String) { self.webhookId = webhookId }
    }

    /// An API token was issued for the project: who it speaks for, never its secret (only a
    /// keyed hash of that is stored, in `access_tokens`, in the same transaction).
    public struct TokenIssued: Sendable, Equatable, Codable {
        public var tokenId: String
        public var kind: AccessToken.Kind
        /// The member, for a member token.
        public var memberId: String?
        /// `read` for a read-only token; absent for a full one (and in events written before
        /// scopes existed, which were all full).
        public var scope: AccessToken.Scope?
        /// When the token stops working; absent when it does not expire.
        public var expiresAt: String?
        public init(tokenId: String, kind: AccessToken.Kind, memberId: String?, scope: AccessToken.Scope? = nil, expiresAt: String? = nil) {
            self.tokenId = tokenId
            self.kind = kind
            self.memberId = memberId
            self.scope = scope == .full ? nil : scope
            self.expiresAt = expiresAt
        }

        /// The token's scope.
        public var effectiveScope: AccessToken.Scope { scope ?? .full }
    }

    /// A live token got a new secret; the former one is still accepted until
    /// `previousSecretValidUntil` (the grace period for whoever holds it to switch).
    public struct TokenRotated: Sendable, Equatable, Codable {
        public var tokenId: String
        public var previousSecretValidUntil: String
        public init(tokenId: String, previousSecretValidUntil: String) {
            self.tokenId = tokenId
            self.previousSecretValidUntil = previousSecretValidUntil
        }
    }

    /// An API token was revoked: its requests and sessions stop.
    public struct TokenRevoked: Sendable, Equatable, Codable {
        public var tokenId: String
        public init(tokenId: String) { self.tokenId = tokenId }
    }
}

extension MembershipEvent: StoredEvent {
    /// The stored type names. Never rename one that has shipped.
    public enum TypeName {
        public static let memberAdded = "project.member-added"
        public static let roleChanged = "project.member-role-changed"
        public static let memberRemoved = "project.member-removed"
        public static let pieceRegistered = "project.piece-registered"
        public static let webhookAdded = "project.webhook-added"
        public static let webhookRemoved = "project.webhook-removed"
        public static let tokenIssued = "project.token-issued"
        public static let tokenRevoked = "project.token-revoked"
        public static let tokenRotated = "project.token-rotated"
    }

    public var typeName: String {
        switch self {
        case .memberAdded: TypeName.memberAdded
        case .roleChanged: TypeName.roleChanged
        case .memberRemoved: TypeName.memberRemoved
        case .pieceRegistered: TypeName.pieceRegistered
        case .webhookAdded: TypeName.webhookAdded
        case .webhookRemoved: TypeName.webhookRemoved
        case .tokenIssued: TypeName.tokenIssued
        case .tokenRevoked: TypeName.tokenRevoked
        case .tokenRotated: TypeName.tokenRotated
        }
    }

    public func encode() throws -> EventData {
        switch self {
        case .memberAdded(let payload): EventData(type: typeName, payload: try PayloadJSON.encode(payload))
        case .roleChanged(let payload): EventData(type: typeName, payload: try PayloadJSON.encode(payload))
        case .memberRemoved(let payload): EventData(type: typeName, payload: try PayloadJSON.encode(payload))
        case .pieceRegistered(let payload): EventData(type: typeName, payload: try PayloadJSON.encode(payload))
        case .webhookAdded(let payload): EventData(type: typeName, payload: try PayloadJSON.encode(payload))
        case .webhookRemoved(let payload): EventData(type: typeName, payload: try PayloadJSON.encode(payload))
        case .tokenIssued(let payload): EventData(type: typeName, payload: try PayloadJSON.encode(payload))
        case .tokenRevoked(let payload): EventData(type: typeName, payload: try PayloadJSON.encode(payload))
        case .tokenRotated(let payload): EventData(type: typeName, payload: try PayloadJSON.encode(payload))
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
        case (TypeName.pieceRegistered, 1): return .pieceRegistered(try body(PieceRegistered.self))
        case (TypeName.webhookAdded, 1): return .webhookAdded(try body(WebhookAdded.self))
        case (TypeName.webhookRemoved, 1): return .webhookRemoved(try body(WebhookRemoved.self))
        case (TypeName.tokenIssued, 1): return .tokenIssued(try body(TokenIssued.self))
        case (TypeName.tokenRevoked, 1): return .tokenRevoked(try body(TokenRevoked.self))
        case (TypeName.tokenRotated, 1): return .tokenRotated(try body(TokenRotated.self))
        default:
            throw EventDecodingError(type: type, schemaVersion: schemaVersion, reason: "unknown event type or schema version")
        }
    }
}
