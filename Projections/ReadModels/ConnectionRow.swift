import CredlogDomain
import CredlogEvents

/// One row of the `connections` read model: what the Connections page shows. Its properties are
/// the table's columns (`projectId` is `project_id`), read and written by name.
public struct ConnectionRow: Sendable, Equatable, Codable {

    public var id: String
    public var projectId: String
    public var piece: String
    public var authType: String
    public var name: String
    /// The name folded to lower case: sort and search key.
    public var nameKey: String
    /// `active` or `inactive`.
    public var status: StatusName
    /// Why it is inactive, such as `expired: token expired`.
    public var statusReason: String?
    public var flowCount: Int
    /// When it was created or last reconnected.
    public var connectedAt: String
    public var statusChangedAt: String
    public var credentialExpiresAt: String?
    public var credentialFingerprint: String
    /// When the current credential was set (created, reconnected or refreshed).
    public var credentialSetAt: String
    /// Whether credlog renews the credential itself (OAuth2 with a refresh token).
    public var credentialRefreshable: Bool
    /// Position of the last event applied to it.
    public var lastPosition: Int64

    /// The fold: the row after `event` (recorded at `at`, position `position`); `nil` once deleted.
    public static func evolve(_ row: ConnectionRow?, _ event: ConnectionEvent, at: Timestamp, position: Int64) -> ConnectionRow? {
        let time = at.iso8601
        if case .created(let created) = event {
            return ConnectionRow(
                id: created.connectionId, projectId: created.projectId, piece: created.piece, authType: created.authType.rawValue,
                name: created.name, nameKey: created.name.lowercased(), status: .active, statusReason: nil, flowCount: 0,
                connectedAt: time, statusChangedAt: time, credentialExpiresAt: created.credentials.expiresAt,
                credentialFingerprint: created.credentials.fingerprint, credentialSetAt: time,
                credentialRefreshable: created.credentials.refreshable ?? false, lastPosition: position)
        }
        guard var row else { return nil }
        row.lastPosition = position
        if let change = StatusTransition(from: row.status, by: event), change.to != .deleted {
            row.status = change.to
            row.statusReason = change.to == .inactive ? change.reason : nil
            row.statusChangedAt = time
        }
        switch event {
        case .created, .expired, .revoked: break
        case .reconnected(let reconnected):
            row.connectedAt = time
            row.setCredential(reconnected.credentials, at: time)
        case .tokenRefreshed(let refreshed):
            row.setCredential(refreshed.credentials, at: time)
        case .credentialsResealed:
            break  // the same secret under a new key: nothing people see changes
        case .renamed(let renamed):
            row.name = renamed.to
            row.nameKey = renamed.to.lowercased()
        case .deleted: return nil
        case .attachedToFlow: row.flowCount += 1
        case .detachedFromFlow: row.flowCount -= 1
        }
        return row
    }

    private mutating func setCredential(_ credentials: SealedCredentials, at time: String) {
        credentialExpiresAt = credentials.expiresAt
        credentialFingerprint = credentials.fingerprint
        credentialSetAt = time
        credentialRefreshable = credentials.refreshable ?? false
    }
}
