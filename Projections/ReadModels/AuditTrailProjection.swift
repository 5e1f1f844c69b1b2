import CredlogEvents
import GRDB

/// Every event, indexed for audit queries (project, connection, actor, type, time).
/// Refused commands live in the store's `refusals` table; ``AuditQuery`` merges both.
public struct AuditTrailProjection: Projection {
    public let name = "audit-trail"
    public let version = 1
    public let tables = ["audit_events"]

    public init() {}

    public func createTables(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE audit_events (
                position INTEGER PRIMARY KEY, at TEXT NOT NULL, project_id TEXT NOT NULL, stream_id TEXT NOT NULL,
                connection_id TEXT, action TEXT NOT NULL, actor_id TEXT NOT NULL, actor_role TEXT NOT NULL,
                correlation_id TEXT NOT NULL, causation_id TEXT NOT NULL, detail TEXT NOT NULL);
            CREATE INDEX audit_by_project ON audit_events (project_id, at);
            CREATE INDEX audit_by_connection ON audit_events (connection_id, at);
            CREATE INDEX audit_by_actor ON audit_events (actor_id, at);
            CREATE INDEX audit_by_correlation ON audit_events (correlation_id);
            """)
    }

    public func apply(_ event: RecordedEvent, _ db: Database) throws {
        try db.execute(sql: """
            INSERT INTO audit_events (position, at, project_id, stream_id, connection_id, action, actor_id, actor_role,
                                      correlation_id, causation_id, detail)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [event.position, event.recordedAt.iso8601, event.projectId, event.stream.rawValue,
                             event.stream.connectionId, event.type, event.actor.id, event.actor.roleName,
                             event.correlationId, event.causationId, EventSummary.text(try EventSummary.fields(of: event))])
    }
}
