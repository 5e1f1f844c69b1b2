import CredlogEvents

/// Every event, indexed for audit queries (project, connection, actor, type, time).
/// Refused commands live in the store's `refusals` table; ``AuditQuery`` merges both.
public struct AuditTrailProjection: Projection {
    public let name = "audit-trail"
    public let version = 1
    public let tables = ["audit_events"]

    public init() {}

    public func createTables(_ db: any SQLSession) throws {
        try db.executeScript(db.dialect.tableDefinition("""
            CREATE TABLE audit_events (
                position INTEGER PRIMARY KEY, at TEXT NOT NULL, project_id TEXT NOT NULL, stream_id TEXT NOT NULL,
                connection_id TEXT, action TEXT NOT NULL, actor_id TEXT NOT NULL, actor_role TEXT NOT NULL,
                correlation_id TEXT NOT NULL, causation_id TEXT NOT NULL, detail TEXT NOT NULL);
            """))
    }

    /// The audit queries' filters; `apply` only inserts.
    public let queryIndexes = [
        "CREATE INDEX audit_by_project ON audit_events (project_id, at)",
        "CREATE INDEX audit_by_connection ON audit_events (connection_id, at)",
        "CREATE INDEX audit_by_actor ON audit_events (actor_id, at)",
        "CREATE INDEX audit_by_correlation ON audit_events (correlation_id)",
    ]

    public func apply(_ event: ProjectedEvent, _ db: any SQLSession) throws {
        try apply([event], db)
    }

    /// One line per event, inserted many rows per statement.
    public func apply(_ events: [ProjectedEvent], _ db: any SQLSession) throws {
        try db.insert(into: "audit_events", columns: [
            "position", "at", "project_id", "stream_id", "connection_id", "action", "actor_id", "actor_role", "correlation_id",
            "causation_id", "detail",
        ], rows: events.map { event in
            let recorded = event.recorded
            return [.integer(recorded.position), .text(recorded.recordedAt.iso8601), .text(recorded.projectId),
                    .text(recorded.stream.rawValue), recorded.stream.connectionId.map(SQLValue.text) ?? .null, .text(recorded.type),
                    .text(recorded.actor.id), .text(recorded.actor.roleName), .text(recorded.correlationId),
                    .text(recorded.causationId), .text(EventSummary.text(EventSummary.fields(of: event)))]
        })
    }
}
