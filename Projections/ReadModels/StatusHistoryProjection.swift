import CredlogEvents

/// One status transition of a connection.
public struct StatusChange: Sendable, Equatable, Codable {
    public var position: Int64
    public var connectionId: String
    public var projectId: String
    /// `nil` for the creation.
    public var fromStatus: String?
    /// `active`, `inactive` or `deleted`.
    public var toStatus: String
    public var at: String
    public var reason: String?
    public var actorId: String
    public var actorRole: String

    enum CodingKeys: String, CodingKey {
        case position, at, reason
        case connectionId = "connection_id", projectId = "project_id", fromStatus = "from_status", toStatus = "to_status"
        case actorId = "actor_id", actorRole = "actor_role"
    }

    /// The transition `event` makes from `previous` (the last `toStatus`), or `nil` when the
    /// status does not change (a rename, a flow, reconnecting an active connection).
    public static func derive(previous: String?, _ event: ConnectionEvent, recorded: RecordedEvent) -> StatusChange? {
        let next: (String, String?)
        switch event {
        case .created: next = ("active", nil)
        case .reconnected:
            guard previous == "inactive" else { return nil }
            next = ("active", "reconnected")
        case .expired(let expired): next = ("inactive", "expired: \(expired.reason)")
        case .revoked(let revoked): next = ("inactive", "revoked: \(revoked.reason)")
        case .deleted: next = ("deleted", nil)
        case .renamed, .attachedToFlow, .detachedFromFlow, .tokenRefreshed, .credentialsResealed: return nil
        }
        return StatusChange(position: recorded.position, connectionId: recorded.stream.connectionId ?? "", projectId: recorded.projectId,
                            fromStatus: previous, toStatus: next.0, at: recorded.recordedAt.iso8601, reason: next.1,
                            actorId: recorded.actor.id, actorRole: recorded.actor.roleName)
    }
}

/// Every status transition of every connection.
public struct StatusHistoryProjection: Projection {
    public let name = "status-history"
    public let version = 1
    public let tables = ["status_history"]

    public init() {}

    public func createTables(_ db: any SQLSession) throws {
        try db.executeScript(db.dialect.tableDefinition("""
            CREATE TABLE status_history (
                position INTEGER PRIMARY KEY, connection_id TEXT NOT NULL, project_id TEXT NOT NULL,
                from_status TEXT, to_status TEXT NOT NULL, at TEXT NOT NULL, reason TEXT,
                actor_id TEXT NOT NULL, actor_role TEXT NOT NULL);
            CREATE INDEX status_history_by_connection ON status_history (connection_id, position);
            CREATE INDEX status_history_by_project ON status_history (project_id, at);
            """))
    }

    public func apply(_ event: ProjectedEvent, _ db: any SQLSession) throws {
        try apply([event], db)
    }

    /// Reads the last status of the batch's connections once, then derives each transition in order.
    public func apply(_ events: [ProjectedEvent], _ db: any SQLSession) throws {
        let candidates = events.compactMap { event -> (ProjectedEvent, String, ConnectionEvent)? in
            guard let (id, decoded) = event.connection else { return nil }
            switch decoded {
            case .renamed, .attachedToFlow, .detachedFromFlow, .tokenRefreshed, .credentialsResealed: return nil  // never a transition
            default: return (event, id, decoded)
            }
        }
        guard !candidates.isEmpty else { return }
        let ids = Array(Set(candidates.map(\.1)))
        var last: [String: String] = [:]
        let latest = try db.fetchAll(forEach: ids) { placeholders in
            """
            SELECT connection_id, to_status FROM status_history
            WHERE position IN (SELECT MAX(position) FROM status_history WHERE connection_id IN (\(placeholders)) GROUP BY connection_id)
            """
        }
        for row in latest { last[try row[0] as String] = try row[1] as String }
        for (event, id, decoded) in candidates {
            guard let change = StatusChange.derive(previous: last[id], decoded, recorded: event.recorded) else { continue }
            last[id] = change.toStatus
            try db.execute(sql: """
                INSERT INTO status_history (position, connection_id, project_id, from_status, to_status, at, reason, actor_id, actor_role)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [change.position, change.connectionId, change.projectId, change.fromStatus, change.toStatus,
                                 change.at, change.reason, change.actorId, change.actorRole])
        }
    }
}
