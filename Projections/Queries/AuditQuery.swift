import CredlogEvents

/// One line of the audit trail: an appended event, a refused command or a credential read.
public struct AuditEntry: Sendable, Equatable, ReadModelRecord {
    public var at: String
    /// The event's position; `nil` for a refused command (it appended nothing).
    public var position: Int64?
    /// `appended`, `refused`, or `read` (the engine read plaintext credentials).
    public var outcome: String
    public var projectId: String?
    public var connectionId: String?
    public var actorId: String
    public var actorRole: String
    /// The event type, or the refused command.
    public var action: String
    /// The event's fields (secrets as fingerprints), or why the command was refused.
    public var detail: String
    public var correlationId: String

}

/// Filters over the audit trail; every filter is optional.
public struct AuditQuery: Sendable {
    public var projectId: String?
    public var connectionId: String?
    public var actorId: String?
    /// An event type (`connection.renamed`) or a command (`connection.rename`).
    public var action: String?
    public var since: String?
    public var until: String?
    /// Only these projects (what the caller may see); `nil` for all.
    public var visibleProjects: [String]?

    public init(projectId: String? = nil, connectionId: String? = nil, actorId: String? = nil, action: String? = nil,
                since: String? = nil, until: String? = nil, visibleProjects: [String]? = nil) {
        self.projectId = projectId
        self.connectionId = connectionId
        self.actorId = actorId
        self.action = action
        self.since = since
        self.until = until
        self.visibleProjects = visibleProjects
    }

    /// Appended events and refused commands, oldest first.
    public func fetch(_ db: any SQLSession) throws -> [AuditEntry] {
        var clauses: [String] = []
        var arguments: SQLArguments = []
        func add(_ clause: String, _ value: (any SQLBindable)?) {
            guard let value else { return }
            clauses.append(clause)
            arguments.append(value)
        }
        add("project_id = ?", projectId)
        add("connection_id = ?", connectionId)
        add("actor_id = ?", actorId)
        add("action = ?", action)
        add("at >= ?", since)
        add("at <= ?", until)
        if let visibleProjects {
            let (inProjects, projectIds) = SQLArguments.membership("project_id", in: visibleProjects)
            clauses.append(inProjects)
            arguments = arguments + projectIds
        }
        let filter = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        return try db.fetchAll(AuditEntry.self, sql: """
            SELECT * FROM (
                SELECT at, position, 'appended' AS outcome, project_id, connection_id, actor_id, actor_role, action, detail,
                       correlation_id, 0 AS kind, position AS seq
                FROM audit_events
                UNION ALL
                SELECT recorded_at, NULL, 'refused', project_id,
                       CASE WHEN stream_id LIKE 'connection:%' THEN substr(stream_id, 12) END,
                       actor_id, actor_role, command, reason, correlation_id, 1, id
                FROM refusals
                UNION ALL
                SELECT recorded_at, NULL, 'read', project_id, connection_id, actor_id, 'engine',
                       'connection.credentials-read', 'credential version ' || credential_version || ' via ' || via,
                       correlation_id, 2, id
                FROM credential_reads) AS entries
            \(filter)
            ORDER BY at, kind, seq
            """, arguments: arguments)
    }
}
