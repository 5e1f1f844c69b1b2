import CredlogEvents

/// Which flows use which connection, with the history of each use (attached, detached).
/// The current usage is the rows with no `detached_at`.
public struct FlowUsageProjection: Projection {
    public let name = "flow-usage"
    public let version = 1
    public let tables = ["flow_usage"]

    public init() {}

    public func createTables(_ db: any SQLSession) throws {
        try db.executeScript(db.dialect.tableDefinition("""
            CREATE TABLE flow_usage (
                connection_id TEXT NOT NULL, flow_id TEXT NOT NULL, project_id TEXT NOT NULL,
                attached_at TEXT NOT NULL, attached_position INTEGER NOT NULL,
                detached_at TEXT, detached_position INTEGER,
                PRIMARY KEY (connection_id, flow_id, attached_position));
            """))
    }

    /// A flow's connections, and a connection's current flows; `apply` finds uses by the primary key.
    public let queryIndexes = [
        "CREATE INDEX flow_usage_by_flow ON flow_usage (flow_id, attached_at)",
        "CREATE INDEX flow_usage_current ON flow_usage (connection_id) WHERE detached_position IS NULL",
    ]

    public func apply(_ event: ProjectedEvent, _ db: any SQLSession) throws {
        try apply([event], db)
    }

    /// Inserts the batch's new uses many rows per statement; a detach (or a deletion) first writes
    /// the uses inserted before it, so that it finds them.
    public func apply(_ events: [ProjectedEvent], _ db: any SQLSession) throws {
        var attached: [[SQLValue]] = []
        func writeAttached() throws {
            try db.insert(into: "flow_usage", columns: Self.insertedColumns, rows: attached)
            attached.removeAll(keepingCapacity: true)
        }
        for event in events {
            guard let (connectionId, decoded) = event.connection else { continue }
            let position = event.recorded.position
            switch decoded {
            case .attachedToFlow(let link):
                attached.append([.text(connectionId), .text(link.flowId), .text(event.recorded.projectId),
                                 .text(event.recorded.recordedAt.iso8601), .integer(position)])
            case .detachedFromFlow(let link):
                let time = event.recorded.recordedAt.iso8601
                try writeAttached()
                try db.execute(sql: """
                    UPDATE flow_usage SET detached_at = ?, detached_position = ?
                    WHERE connection_id = ? AND flow_id = ? AND detached_position IS NULL
                    """, arguments: [time, position, connectionId, link.flowId])
            case .deleted:
                // A deleted connection is used by no flow from then on.
                let time = event.recorded.recordedAt.iso8601
                try writeAttached()
                try db.execute(sql: """
                    UPDATE flow_usage SET detached_at = ?, detached_position = ? WHERE connection_id = ? AND detached_position IS NULL
                    """, arguments: [time, position, connectionId])
            default:
                break
            }
        }
        try writeAttached()
    }

    private static let insertedColumns = ["connection_id", "flow_id", "project_id", "attached_at", "attached_position"]
}
