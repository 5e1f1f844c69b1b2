import CredlogEvents

/// What can be asked of a connection. Everything impure (new ids, sealed
/// credentials) is done before and comes in with the command.
public enum ConnectionCommand: Sendable, Equatable {
    case create(Create)
    case reconnect(SealedCredentials)
    case rename(String)
    case expire(reason: String)
    case revoke(reason: String)
    case delete
    case attach(flowId: String)
    case detach(flowId: String)
    /// Records OAuth2 tokens refreshed at the provider (sealed before), which replace the
    /// credential with fingerprint `replacing` (a no-op if another has replaced it since).
    case refresh(SealedCredentials, replacing: String)
    /// The current credential sealed again under a new data key (same fingerprint), after a
    /// master key rotation.
    case reseal(SealedCredentials)
    /// Records that the sweeper warned one of the project's webhooks (whose lead is `daysAhead`
    /// days) that the current credential expires soon; a no-op if it was warned about this credential.
    case warnExpiry(webhookId: String, daysAhead: Int)
    /// Records the provider's answer to a recheck of the credential with `credentialFingerprint`
    /// (asked before): a refusal of the current credential also makes an active connection inactive.
    case check(ConnectionEvent.Check)

    public struct Create: Sendable, Equatable {
        public var connectionId: String
        public var projectId: String
        public var piece: String
        public var name: String
        public var credentials: SealedCredentials

        public init(connectionId: String, projectId: String, piece: String, name: String, credentials: SealedCredentials) {
            self.connectionId = connectionId
            self.projectId = projectId
            self.piece = piece
            self.name = name
            self.credentials = credentials
        }
    }

    public var kind: Kind {
        switch self {
        case .create: .create
        case .reconnect: .reconnect
        case .rename: .rename
        case .expire: .expire
        case .revoke: .revoke
        case .delete: .delete
        case .attach: .attach
        case .detach: .detach
        case .refresh: .refresh
        case .reseal: .reseal
        case .warnExpiry: .warnExpiry
        case .check: .check
        }
    }

    /// The kinds of command, with who may issue each. `replace` moves every flow of one
    /// connection to another (``ConnectionDecider/replace(_:with:by:)``): two streams, one decision.
    public enum Kind: String, Sendable, CaseIterable {
        case create, reconnect, rename, expire, revoke, delete, attach, detach, refresh, reseal, replace, check
        case warnExpiry = "warn-expiry"

        /// The name kept in the audit trail, such as `connection.rename`.
        public var auditName: String { "connection.\(rawValue)" }

        /// Whether `caller` (a member of the connection's project, or a machine actor) may issue it.
        func allows(_ caller: Caller) -> Bool {
            switch (self, caller) {
            case (_, .outsider): false
            case (.create, .member): true
            case (.attach, .member), (.detach, .member), (.attach, .engine), (.detach, .engine): true
            case (.reconnect, .member(_, .admin)), (.rename, .member(_, .admin)),
                 (.revoke, .member(_, .admin)), (.delete, .member(_, .admin)), (.replace, .member(_, .admin)),
                 (.check, .member(_, .admin)), (.check, .system): true
            case (.expire, .system), (.expire, .engine), (.refresh, .system), (.refresh, .engine), (.reseal, .system), (.warnExpiry, .system): true
            default: false
            }
        }

        /// Who may, in words, for the refusal message.
        var whoMay: String {
            switch self {
            case .create: "members of the project"
            case .attach, .detach: "members of the project and the engine"
            case .reconnect, .rename, .revoke, .delete, .replace: "admins of the project"
            case .expire, .refresh: "the system and the engine"
            case .reseal: "the operator (as system)"
            case .warnExpiry: "the system"
            case .check: "admins of the project and the system"
            }
        }
    }
}
