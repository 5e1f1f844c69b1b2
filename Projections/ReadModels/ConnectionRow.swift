import CredlogDomain
import CredlogEvents

/// A connection as lists show it (the API, the CLI, the page): its row in the `connections`
/// read model without the row's own sort key and log position.
public struct ConnectionSummary: Sendable, Equatable, Codable {
    public var id: String
    public var projectId: String
    public var piece: String
    public var authType: String
    public var name: String
    /// `active` or `inactive`.
    public var status: StatusName
    /// Why it is inactive, such as `expired: token expired`.
    public var statusReason: String?
    public var flowCount: Int
    /// When it was created or last reconnected.
    public var connectedAt: Timestamp
    public var statusChangedAt: Timestamp
    public var credentialExpiresAt: String?
    public var credentialFingerprint: String
    /// When the current credential was set (created, reconnected or refreshed).
    public var credentialSetAt: Timestamp
    /// Whether credlog renews the credential itself (OAuth2 with a refresh token).
    public var credentialRefreshable: Bool
    /// Who created it (its owner): a member's id, `system` or `engine`.
    public var createdBy: String
    /// Who last reconnected it; `nil` if no one has since it was created.
    public var reconnectedBy: String?
    /// When its provider was last asked whether the credential works (a recheck); `nil` if never.
    public var lastCheckedAt: Timestamp?
}

/// One row of the `connections` read model: its summary, the name's sort key and the position
/// of the last event applied, read and written by column position (below).
@dynamicMemberLookup
public struct ConnectionRow: Sendable, Equatable {
    public var summary: ConnectionSummary
    /// The name folded to lower case: sort and search key.
    public var nameKey: String
    /// Position of the last event applied to it.
    public var lastPosition: Int64

    public subscript<Value>(dynamicMember field: WritableKeyPath<ConnectionSummary, Value>) -> Value {
        get { summary[keyPath: field] }
        set { summary[keyPath: field] = newValue }
    }

    /// The fold: the row after `event` (recorded at `at` by `actor`, position `position`); `nil` once deleted.
    public static func evolve(_ row: ConnectionRow?, _ event: ConnectionEvent, at: Timestamp, by actor: EventActor,
                              position: Int64) -> ConnectionRow? {
        var row = row
        evolve(&row, event, at: at, by: actor, position: position)
        return row
    }

    /// The same fold, in place: a row kept in a dictionary (`evolve(&rows[id], …)`) is changed
    /// where it is, not copied out and back.
    public static func evolve(_ row: inout ConnectionRow?, _ event: ConnectionEvent, at: Timestamp, by actor: EventActor, position: Int64) {
        if case .created(let created) = event {
            row = ConnectionRow(summary: ConnectionSummary(
                id: created.connectionId, projectId: created.projectId, piece: created.piece, authType: created.authType.rawValue,
                name: created.name, status: .active, statusReason: nil, flowCount: 0, connectedAt: at, statusChangedAt: at,
                credentialExpiresAt: created.credentials.expiresAt, credentialFingerprint: created.credentials.fingerprint,
                credentialSetAt: at, credentialRefreshable: created.credentials.refreshable ?? false, createdBy: actor.id,
                reconnectedBy: nil, lastCheckedAt: nil),
                nameKey: created.name.lowercased(), lastPosition: position)
        } else if row?.apply(event, at: at, by: actor, position: position) == false {
            row = nil
        }
    }

    /// Applies an event other than the creation; `false` when it deletes the connection.
    private mutating func apply(_ event: ConnectionEvent, at: Timestamp, by actor: EventActor, position: Int64) -> Bool {
        lastPosition = position
        if let change = StatusTransition(from: summary.status, by: event), change.to != .deleted {
            summary.status = change.to
            summary.statusReason = change.to == .inactive ? change.reason : nil
            summary.statusChangedAt = at
        }
        switch event {
        case .created, .expired, .revoked: break
        case .reconnected(let reconnected):
            summary.connectedAt = at
            summary.reconnectedBy = actor.id
            setCredential(reconnected.credentials, at: at)
        case .tokenRefreshed(let refreshed):
            setCredential(refreshed.credentials, at: at)
        case .credentialsResealed, .expiryWarned:
            break
        case .checked:
            summary.lastCheckedAt = at  // the same secret under a new key: nothing people see changes
        case .renamed(let renamed):
            summary.name = renamed.to
            nameKey = renamed.to.lowercased()
        case .deleted: return false
        case .attachedToFlow: summary.flowCount += 1
        case .detachedFromFlow: summary.flowCount -= 1
        }
        return true
    }

    private mutating func setCredential(_ credentials: SealedCredentials, at time: Timestamp) {
        summary.credentialExpiresAt = credentials.expiresAt
        summary.credentialFingerprint = credentials.fingerprint
        summary.credentialSetAt = time
        summary.credentialRefreshable = credentials.refreshable ?? false
    }
}

/// The row by column position (one read and one write per connection of every batch): no
/// `Codable` keyed containers, no dictionary of column names.
extension ConnectionRow {
    /// The `connections` table's columns, in its order.
    public static let columns = ["id", "project_id", "piece", "auth_type", "name", "name_key", "status", "status_reason", "flow_count",
                          "connected_at", "status_changed_at", "credential_expires_at", "credential_fingerprint", "credential_set_at",
                          "credential_refreshable", "last_position", "created_by", "reconnected_by",
                          "last_checked_at"]
    /// ``columns`` for a `SELECT`.
    public static let columnList = columns.joined(separator: ", ")

    /// The row's values, in ``columns`` order.
    var values: [SQLValue] {
        let s = summary
        return [.text(s.id), .text(s.projectId), .text(s.piece), .text(s.authType), .text(s.name), .text(nameKey), .text(s.status.rawValue),
                s.statusReason.map(SQLValue.text) ?? .null, .integer(Int64(s.flowCount)), .text(s.connectedAt.iso8601),
                .text(s.statusChangedAt.iso8601), s.credentialExpiresAt.map(SQLValue.text) ?? .null, .text(s.credentialFingerprint),
                .text(s.credentialSetAt.iso8601), .integer(s.credentialRefreshable ? 1 : 0), .integer(lastPosition),
                .text(s.createdBy), s.reconnectedBy.map(SQLValue.text) ?? .null,
                s.lastCheckedAt.map { SQLValue.text($0.iso8601) } ?? .null]
    }

    /// A row read with ``columns`` in order. A value that is not what credlog writes there
    /// (a row written by someone else) is an ``UnexpectedRow`` naming the column.
    public init(positional row: SQLRow) throws {
        func time(_ index: Int) throws -> Timestamp {
            guard let time = Timestamp(iso8601: try row[index] as String) else {
                throw UnexpectedRow(column: Self.columns[index], expected: "an ISO 8601 time")
            }
            return time
        }
        guard let status = StatusName(rawValue: try row[6] as String) else { throw UnexpectedRow(column: "status", expected: "a status") }
        summary = ConnectionSummary(
            id: try row[0], projectId: try row[1], piece: try row[2], authType: try row[3], name: try row[4], status: status,
            statusReason: try row[7], flowCount: try row[8], connectedAt: try time(9), statusChangedAt: try time(10),
            credentialExpiresAt: try row[11], credentialFingerprint: try row[12], credentialSetAt: try time(13),
            credentialRefreshable: try row[14], createdBy: try row[16], reconnectedBy: try row[17],
            lastCheckedAt: try (row[18] as String?).map { text in
                guard let time = Timestamp(iso8601: text) else { throw UnexpectedRow(column: "last_checked_at", expected: "an ISO 8601 time") }
                return time
            })
        nameKey = try row[5]
        lastPosition = try row[15]
    }
}
