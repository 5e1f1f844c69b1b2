import Foundation

/// Everything that can happen to a connection. One stream per connection.
public enum ConnectionEvent: Sendable, Equatable {
    case created(Created)
    case reconnected(Reconnected)
    case renamed(Renamed)
    case expired(Deactivated)
    case revoked(Deactivated)
    case deleted
    case attachedToFlow(FlowLink)
    case detachedFromFlow(FlowLink)
    case tokenRefreshed(TokenRefreshed)
    case credentialsResealed(CredentialsResealed)
    case expiryWarned(ExpiryWarning)
    case checked(Check)

    /// A connection came into being with its first credential.
    public struct Created: Sendable, Equatable, Codable {
        public var connectionId: String
        public var projectId: String
        /// The piece (provider) it authorises: `gmail`, `hubspot`, `slack`…
        public var piece: String
        public var authType: AuthType
        public var name: String
        public var credentials: SealedCredentials

        public init(connectionId: String, projectId: String, piece: String, authType: AuthType, name: String, credentials: SealedCredentials) {
            self.connectionId = connectionId
            self.projectId = projectId
            self.piece = piece
            self.authType = authType
            self.name = name
            self.credentials = credentials
        }
    }

    /// New credentials replaced the old ones; the connection is active again.
    public struct Reconnected: Sendable, Equatable, Codable {
        public var credentials: SealedCredentials
        public init(credentials: SealedCredentials) { self.credentials = credentials }
    }

    /// The connection's display name changed.
    public struct Renamed: Sendable, Equatable, Codable {
        public var from: String
        public var to: String
        public init(from: String, to: String) {
            self.from = from
            self.to = to
        }
    }

    /// The connection stopped working (expired or revoked), with the reason given.
    public struct Deactivated: Sendable, Equatable, Codable {
        public var reason: String
        public init(reason: String) { self.reason = reason }
    }

    /// An OAuth2 access token was refreshed at the provider: the new tokens, sealed. The
    /// connection's status does not change. Only fingerprints tell the tokens apart.
    public struct TokenRefreshed: Sendable, Equatable, Codable {
        public var credentials: SealedCredentials
        /// The fingerprint of the credential this one replaced.
        public var previousFingerprint: String
        public init(credentials: SealedCredentials, previousFingerprint: String) {
            self.credentials = credentials
            self.previousFingerprint = previousFingerprint
        }
    }

    /// The current credential, unchanged (same fingerprint), sealed again under a new data key
    /// after a master key rotation (`credlog keys reseal`); the retired key is destroyed with it.
    public struct CredentialsResealed: Sendable, Equatable, Codable {
        public var credentials: SealedCredentials
        public init(credentials: SealedCredentials) { self.credentials = credentials }
    }

    /// A warning that the current credential expires soon went out to one of the project's
    /// webhooks (as the `connection.expiring` notification): once per credential and webhook,
    /// `daysAhead` days (the webhook's lead) before `expiresAt`. The status does not change.
    public struct ExpiryWarning: Sendable, Equatable, Codable {
        public var webhookId: String
        /// The credential warned about: a new one (reconnected, refreshed) is warned about again.
        public var credentialFingerprint: String
        public var expiresAt: String
        public var daysAhead: Int
        public init(webhookId: String, credentialFingerprint: String, expiresAt: String, daysAhead: Int) {
            self.webhookId = webhookId
            self.credentialFingerprint = credentialFingerprint
            self.expiresAt = expiresAt
            self.daysAhead = daysAhead
        }
    }

    /// The piece's provider was asked whether the current credential works (a recheck): its
    /// answer's status and, when it refused, a sanitised reason (never its body). A refusal is
    /// followed by `connection.expired` in the same append when the connection was active.
    public struct Check: Sendable, Equatable, Codable {
        public var credentialFingerprint: String
        public var passed: Bool
        public var httpStatus: Int
        public var reason: String?
        public init(credentialFingerprint: String, passed: Bool, httpStatus: Int, reason: String?) {
            self.credentialFingerprint = credentialFingerprint
            self.passed = passed
            self.httpStatus = httpStatus
            self.reason = reason
        }
    }

    /// A flow started (attached) or stopped (detached) using the connection.
    public struct FlowLink: Sendable, Equatable, Codable {
        public var flowId: String
        public init(flowId: String) { self.flowId = flowId }
    }
}

extension ConnectionEvent: StoredEvent {
    /// The stored type names. Never rename one that has shipped.
    public enum TypeName {
        public static let created = "connection.created"
        public static let reconnected = "connection.reconnected"
        public static let renamed = "connection.renamed"
        public static let expired = "connection.expired"
        public static let revoked = "connection.revoked"
        public static let deleted = "connection.deleted"
        public static let attachedToFlow = "connection.attached-to-flow"
        public static let detachedFromFlow = "connection.detached-from-flow"
        public static let tokenRefreshed = "connection.token-refreshed"
        public static let credentialsResealed = "connection.credentials-resealed"
        public static let expiryWarned = "connection.expiry-warned"
        public static let checked = "connection.checked"
    }

    /// The current schema version of `connection.expired` (version 1 called the reason `message`).
    public static let expiredSchemaVersion = 2

    public var typeName: String {
        switch self {
        case .created: TypeName.created
        case .reconnected: TypeName.reconnected
        case .renamed: TypeName.renamed
        case .expired: TypeName.expired
        case .revoked: TypeName.revoked
        case .deleted: TypeName.deleted
        case .attachedToFlow: TypeName.attachedToFlow
        case .detachedFromFlow: TypeName.detachedFromFlow
        case .tokenRefreshed: TypeName.tokenRefreshed
        case .credentialsResealed: TypeName.credentialsResealed
        case .expiryWarned: TypeName.expiryWarned
        case .checked: TypeName.checked
        }
    }

    /// The credential this event carries, if any.
    public var credentials: SealedCredentials? {
        switch self {
        case .created(let created): created.credentials
        case .reconnected(let reconnected): reconnected.credentials
        case .tokenRefreshed(let refreshed): refreshed.credentials
        case .credentialsResealed(let resealed): resealed.credentials
        default: nil
        }
    }

    /// Encodes the payload with ``JSONWriter`` (the bytes `PayloadJSON` would write).
    public func encode() throws -> EventData {
        EventData(type: typeName, schemaVersion: self.isExpired ? Self.expiredSchemaVersion : 1, payload: payloadJSON())
    }

    /// Decodes with ``JSONValue`` (what the `Codable` shapes would read), upcasting old versions.
    public static func decode(type: String, schemaVersion: Int, payload: Data) throws -> ConnectionEvent {
        let event: ConnectionEvent?
        do {
            event = try fromPayload(type: type, schemaVersion: schemaVersion, payload: payload)
        } catch {
            throw EventDecodingError(type: type, schemaVersion: schemaVersion, reason: "payload does not match its schema")
        }
        guard let event else {
            throw EventDecodingError(type: type, schemaVersion: schemaVersion, reason: "unknown event type or schema version")
        }
        return event
    }

    private var isExpired: Bool {
        if case .expired = self { true } else { false }
    }
}

/// Upcaster for `connection.expired` v1, stored as `{"message": …}` before the
/// field was renamed `reason` in v2. Old rows stay as written; they are upcast on read.
enum ExpiredV1Upcaster {
    static func upcast(_ v1: PayloadFields) throws(PayloadMismatch) -> ConnectionEvent.Deactivated {
        ConnectionEvent.Deactivated(reason: try v1.string("message"))
    }
}
