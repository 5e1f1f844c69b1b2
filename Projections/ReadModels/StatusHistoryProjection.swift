import CredlogDomain
import CredlogEvents

/// One status transition of a connection: a row of `status_history`.
public struct StatusChange: Sendable, Equatable, ReadModelRecord {
    public var position: Int64
    public var connectionId: String
    public var projectId: String
    /// `nil` for the creation.
    public var fromStatus: StatusName?
    public var toStatus: StatusName
    public var at: String
    public var reason: String?
    public var actorId: String
    public var actorRole: String

    /// The `status_history` table's columns, in its order.
    static let columns = ["position", "connection_id", "project_id", "from_status", "to_status", "at", "reason", "actor_id", "actor_role"]

    /// The row's values, in ``columns`` order (written many rows per statement).
    var values: [SQLValue] {
        [.integer(position), .text(connectionId), .text(projectId), fromStatus.map { .text($0.rawValue) } ?? .null, .text(toStatus.rawValue),
         .text(at), reason.map(SQLValue.text) ?? .null, .text(actorId), .text(actorRole)]
    }

    /// The transition `event` makes from `previous` (the last `toStatus`), or `nil` when the
    /// status does not change (``StatusTransition``).
    public static func derive(previous: StatusName?, _ event: ConnectionEvent, recorded: RecordedEvent) -> StatusChange? {
        guard let change = StatusTransition(from: previous, by: event) else { return nil }
        return StatusChange(position: recorded.position, connectionId: recorded.stream.connectionId ?? "", projectId: recorded.projectId,
                            fromStatus: change.from, toStatus: change.to, at: recorded.recordedAt.iso8601, reason: change.reason,
                            actorId: recorded.actor.id, actorRole: recorded.actor.roleName)
    }
}

/// Every status transition of every connection.
public struct StatusHistoryProjection: Projection {
    public let name = "status-history"
    /// 2: the project index is in log order (it was by time, which left SQLite sorting a whole
    /// project's history for every batch of a streamed report).
    public let version = 2
    public let tables = ["status_history"]

    public init() {}

    public func createTables(_ db: any SQLSession) throws {
        try db.executeScript(db.dialect.tableDefinition("""
            CREATE TABLE status_history (
                position INTEGER PRIMARY KEY, connection_id TEXT NOT NULL, project_id TEXT NOT NULL,
                from_status TEXT, to_status TEXT NOT NULL, at TEXT NOT NULL, reason TEXT,
                actor_id TEXT NOT NULL, actor_role TEXT NOT NULL);
            -- `apply` reads each connection's last status through it: built with the table.
            CREATE INDEX status_history_by_connection ON status_history (connection_id, position);
            """))
    }

    /// A project's history in log order (and so in time order): the status-history report reads
    /// it in batches by position.
    public let queryIndexes = ["CREATE INDEX status_history_by_project ON status_history (project_id, position)"]

    public func apply(_ event: ProjectedEvent, _ db: any SQLSession) throws {
        try apply([event], db)
    }

    /// Reads the last status of the batch's connections once, then derives each transition in order.
    public func apply(_ events: [ProjectedEvent], _ db: any SQLSession) throws {
        let candidates = events.compactMap { event -> (ProjectedEvent, String, ConnectionEvent)? in
            guard let (id, decoded) = event.connection, StatusTransition.mayChange(by: decoded) else { return nil }
            return (event, id, decoded)
        }
        guard !candidates.isEmpty else { return }
        let ids = Array(Set(candidates.map(\.1)))
        var last: [String: StatusName] = [:]
        let latest = try db.fetchAll(forEach: ids) { placeholders in
            """
            SELECT connection_id, to_status FROM status_history
            WHERE position IN (SELECT MAX(position) FROM status_history WHERE connection_id IN (\(placeholders)) GROUP BY connection_id)
            """
        }
        for row in latest { last[try row[0] as String] = StatusName(rawValue: try row[1] as String) }
        var rows: [[SQLValue]] = []
        for (event, id, decoded) in candidates {
            guard let change = StatusChange.derive(previous: last[id], decoded, recorded: event.recorded) else { continue }
            last[id] = change.toStatus
            rows.append(change.values)
        }
        try db.insert(into: "status_history", columns: StatusChange.columns, rows: rows)
    }
}
