import CredlogEvents
import GRDB

/// One row of the `connections` read model: what the Connections page shows.
public struct ConnectionRow: Sendable, Equatable, Codable, FetchableRecord {

    public var id: String
    public var projectId: String
    public var piece: String
    public var authType: String
    public var name: String
    /// The name folded to lower case: sort and search key.
    public var nameKey: String
    /// `active` or `inactive`.
    public var status: String
    /// Why it is inactive, such as `expired: token expired`.
    public var statusReason: String?
    public var flowCount: Int
    /// When it was created or last reconnected.
    public var connectedAt: String
    public var statusChangedAt: String
    public var credentialExpiresAt: String?
    public var credentialFingerprint: String
    /// Position of the last event applied to it.
    public var lastPosition: Int64

    enum CodingKeys: String, CodingKey {
        case id, piece, name, status
        case projectId = "project_id", authType = "auth_type", nameKey = "name_key", statusReason = "status_reason"
        case flowCount = "flow_count", connectedAt = "connected_at", statusChangedAt = "status_changed_at"
        case credentialExpiresAt = "credential_expires_at", credentialFingerprint = "credential_fingerprint"
        case lastPosition = "last_position"
    }

    /// Decodes a row of `connections` by column position (see ``columns``).
    public init(row: Row) {
        id = row[0]
        projectId = row[1]
        piece = row[2]
        authType = row[3]
        name = row[4]
        nameKey = row[5]
        status = row[6]
        statusReason = row[7]
        flowCount = row[8]
        connectedAt = row[9]
        statusChangedAt = row[10]
        credentialExpiresAt = row[11]
        credentialFingerprint = row[12]
        lastPosition = row[13]
    }

    /// The table's columns, in the order ``init(row:)`` reads them.
    public static let columns = """
        id, project_id, piece, auth_type, name, name_key, status, status_reason, flow_count, connected_at, \
        status_changed_at, credential_expires_at, credential_fingerprint, last_position
        """

    /// The values of ``columns``, in order.
    var values: StatementArguments {
        [id, projectId, piece, authType, name, nameKey, status, statusReason, flowCount, connectedAt, statusChangedAt,
         credentialExpiresAt, credentialFingerprint, lastPosition]
    }

    public init(id: String, projectId: String, piece: String, authType: String, name: String, nameKey: String, status: String,
                statusReason: String?, flowCount: Int, connectedAt: String, statusChangedAt: String,
                credentialExpiresAt: String?, credentialFingerprint: String, lastPosition: Int64) {
        self.id = id
        self.projectId = projectId
        self.piece = piece
        self.authType = authType
        self.name = name
        self.nameKey = nameKey
        self.status = status
        self.statusReason = statusReason
        self.flowCount = flowCount
        self.connectedAt = connectedAt
        self.statusChangedAt = statusChangedAt
        self.credentialExpiresAt = credentialExpiresAt
        self.credentialFingerprint = credentialFingerprint
        self.lastPosition = lastPosition
    }

    /// The fold: the row after `event` (recorded at `at`, position `position`); `nil` once deleted.
    public static func evolve(_ row: ConnectionRow?, _ event: ConnectionEvent, at: Timestamp, position: Int64) -> ConnectionRow? {
        let time = at.iso8601
        if case .created(let created) = event {
            return ConnectionRow(
                id: created.connectionId, projectId: created.projectId, piece: created.piece, authType: created.authType.rawValue,
                name: created.name, nameKey: created.name.lowercased(), status: "active", statusReason: nil, flowCount: 0,
                connectedAt: time, statusChangedAt: time, credentialExpiresAt: created.credentials.expiresAt,
                credentialFingerprint: created.credentials.fingerprint, lastPosition: position)
        }
        guard var row else { return nil }
        row.lastPosition = position
        switch event {
        case .created: break
        case .reconnected(let reconnected):
            if row.status != "active" { row.statusChangedAt = time }
            row.status = "active"
            row.statusReason = nil
            row.connectedAt = time
            row.credentialExpiresAt = reconnected.credentials.expiresAt
            row.credentialFingerprint = reconnected.credentials.fingerprint
        case .renamed(let renamed):
            row.name = renamed.to
            row.nameKey = renamed.to.lowercased()
        case .expired(let expired):
            row.status = "inactive"
            row.statusReason = "expired: \(expired.reason)"
            row.statusChangedAt = time
        case .revoked(let revoked):
            row.status = "inactive"
            row.statusReason = "revoked: \(revoked.reason)"
            row.statusChangedAt = time
        case .deleted: return nil
        case .attachedToFlow: row.flowCount += 1
        case .detachedFromFlow: row.flowCount -= 1
        }
        return row
    }
}
