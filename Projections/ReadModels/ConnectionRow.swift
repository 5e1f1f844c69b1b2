import CredlogEvents

/// One row of the `connections` read model: what the Connections page shows.
public struct ConnectionRow: Sendable, Equatable, Codable {

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
    /// When the current credential was set (created, reconnected or refreshed).
    public var credentialSetAt: String
    /// Whether credlog renews the credential itself (OAuth2 with a refresh token).
    public var credentialRefreshable: Bool
    /// Position of the last event applied to it.
    public var lastPosition: Int64

    enum CodingKeys: String, CodingKey {
        case id, piece, name, status
        case projectId = "project_id", authType = "auth_type", nameKey = "name_key", statusReason = "status_reason"
        case flowCount = "flow_count", connectedAt = "connected_at", statusChangedAt = "status_changed_at"
        case credentialExpiresAt = "credential_expires_at", credentialFingerprint = "credential_fingerprint"
        case credentialSetAt = "credential_set_at", credentialRefreshable = "credential_refreshable"
        case lastPosition = "last_position"
    }

    /// Decodes a row of `connections` by column position (see ``columns``).
    public init(row: SQLRow) throws {
        id = try row[0]
        projectId = try row[1]
        piece = try row[2]
        authType = try row[3]
        name = try row[4]
        nameKey = try row[5]
        status = try row[6]
        statusReason = try row[7]
        flowCount = try row[8]
        connectedAt = try row[9]
        statusChangedAt = try row[10]
        credentialExpiresAt = try row[11]
        credentialFingerprint = try row[12]
        credentialSetAt = try row[13]
        credentialRefreshable = try row[14]
        lastPosition = try row[15]
    }

    /// The table's columns, in the order ``init(row:)`` reads them.
    public static let columns = """
        id, project_id, piece, auth_type, name, name_key, status, status_reason, flow_count, connected_at, \
        status_changed_at, credential_expires_at, credential_fingerprint, credential_set_at, credential_refreshable, last_position
        """

    /// The values of ``columns``, in order.
    var values: SQLArguments {
        [id, projectId, piece, authType, name, nameKey, status, statusReason, flowCount, connectedAt, statusChangedAt,
         credentialExpiresAt, credentialFingerprint, credentialSetAt, credentialRefreshable, lastPosition]
    }

    public init(id: String, projectId: String, piece: String, authType: String, name: String, nameKey: String, status: String,
                statusReason: String?, flowCount: Int, connectedAt: String, statusChangedAt: String,
                credentialExpiresAt: String?, credentialFingerprint: String, credentialSetAt: String, credentialRefreshable: Bool,
                lastPosition: Int64) {
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
        self.credentialSetAt = credentialSetAt
        self.credentialRefreshable = credentialRefreshable
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
                credentialFingerprint: created.credentials.fingerprint, credentialSetAt: time,
                credentialRefreshable: created.credentials.refreshable ?? false, lastPosition: position)
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
            row.setCredential(reconnected.credentials, at: time)
        case .tokenRefreshed(let refreshed):
            row.setCredential(refreshed.credentials, at: time)
        case .credentialsResealed:
            break  // the same secret under a new key: nothing people see changes
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

    private mutating func setCredential(_ credentials: SealedCredentials, at time: String) {
        credentialExpiresAt = credentials.expiresAt
        credentialFingerprint = credentials.fingerprint
        credentialSetAt = time
        credentialRefreshable = credentials.refreshable ?? false
    }
}
