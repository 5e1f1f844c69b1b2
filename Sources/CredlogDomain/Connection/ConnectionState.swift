import CredlogEvents

/// A connection as its events leave it.
public struct Connection: Sendable, Equatable {
    public var id: String
    public var projectId: String
    public var piece: String
    public var authType: AuthType
    public var name: String
    public var status: ConnectionStatus
    /// The flows using it.
    public var flows: Set<String>
    /// The current credential, sealed.
    public var credentials: SealedCredentials
    /// The credential each webhook was last warned about, by fingerprint: a warning that it
    /// expires goes out once per credential and webhook.
    public var expiryWarnings: [String: String] = [:]
}

/// The fold of a connection's stream.
public enum ConnectionState: Sendable, Equatable {
    /// No event yet.
    case none
    case live(Connection)
    /// Deleted: kept for history, closed to every command.
    case deleted(Connection)

    public static let initial = ConnectionState.none

    /// The connection, live or deleted.
    public var connection: Connection? {
        switch self {
        case .none: nil
        case .live(let connection), .deleted(let connection): connection
        }
    }

    /// Applies one event. Does no checking: events are facts.
    public static func evolve(_ state: ConnectionState, _ event: ConnectionEvent) -> ConnectionState {
        if case .created(let created) = event {
            return .live(Connection(id: created.connectionId, projectId: created.projectId, piece: created.piece,
                                    authType: created.authType, name: created.name, status: .active, flows: [],
                                    credentials: created.credentials))
        }
        guard case .live(var connection) = state else { return state }
        if let status = ConnectionStatus.set(by: event) { connection.status = status }
        switch event {
        case .created: break
        case .reconnected(let reconnected): connection.credentials = reconnected.credentials
        case .renamed(let renamed): connection.name = renamed.to
        case .expired, .revoked: break
        case .deleted: return .deleted(connection)
        case .attachedToFlow(let link): connection.flows.insert(link.flowId)
        case .detachedFromFlow(let link): connection.flows.remove(link.flowId)
        case .tokenRefreshed(let refreshed): connection.credentials = refreshed.credentials
        case .credentialsResealed(let resealed): connection.credentials = resealed.credentials
        case .expiryWarned(let warning): connection.expiryWarnings[warning.webhookId] = warning.credentialFingerprint
        case .checked: break  // a refusal comes with its own `expired`
        }
        return .live(connection)
    }

    /// Folds a whole stream.
    public static func fold(_ events: some Sequence<ConnectionEvent>) -> ConnectionState {
        events.reduce(initial, evolve)
    }
}
