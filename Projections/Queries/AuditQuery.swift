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

    /// Appended events (read from the log itself: the audit trail is no copy of it), refused
    /// commands and credential reads, oldest first.
    public func fetch(_ db: any SQLSession) throws -> [AuditEntry] {
        let appended = try db.fetchEvents(sql: "SELECT \(RecordedEvent.columns) FROM events \(eventFilter.sql) ORDER BY position",
                                          arguments: eventFilter.arguments).map(Self.entry)
            .sorted { Self.precedes($0.at, $1.at) || ($0.at == $1.at && ($0.position ?? 0) < ($1.position ?? 0)) }
        let others = try db.fetchAll(AuditEntry.self, sql: """
            SELECT * FROM (
                SELECT recorded_at AS at, NULL AS position, 'refused' AS outcome, project_id,
                       CASE WHEN stream_id LIKE 'connection:%' THEN substr(stream_id, 12) END AS connection_id,
                       actor_id, actor_role, command AS action, reason AS detail, correlation_id, 1 AS kind, id AS seq
                FROM refusals
                UNION ALL
                SELECT recorded_at, NULL, 'read', project_id, connection_id, actor_id, 'engine',
                       'connection.credentials-read', 'credential version ' || credential_version || ' via ' || via,
                       correlation_id, 2, id
                FROM credential_reads) AS entries
            \(otherFilter.sql)
            ORDER BY at, kind, seq
            """, arguments: otherFilter.arguments)
        return Self.merged(appended, others)
    }

    /// The log's events that pass the filters, by the columns of `events` (a connection's
    /// events are its stream's: the stream index answers).
    private var eventFilter: (sql: String, arguments: SQLArguments) {
        filter(project: "project_id", connection: "stream_id", connectionValue: connectionId.map { StreamID.connection($0).rawValue },
               actor: "actor_id", action: "event_type", time: "recorded_at")
    }

    /// Refusals and credential reads that pass the filters.
    private var otherFilter: (sql: String, arguments: SQLArguments) {
        filter(project: "project_id", connection: "connection_id", connectionValue: connectionId, actor: "actor_id", action: "action",
               time: "at")
    }

    private func filter(project: String, connection: String, connectionValue: String?, actor: String, action actionColumn: String,
                        time: String) -> (sql: String, arguments: SQLArguments) {
        var clauses: [String] = []
        var arguments: SQLArguments = []
        func add(_ clause: String, _ value: (any SQLBindable)?) {
            guard let value else { return }
            clauses.append(clause)
            arguments.append(value)
        }
        add("\(project) = ?", projectId)
        add("\(connection) = ?", connectionValue)
        add("\(actor) = ?", actorId)
        add("\(actionColumn) = ?", action)
        add("\(time) >= ?", since)
        add("\(time) <= ?", until)
        if let visibleProjects {
            let (inProjects, projectIds) = SQLArguments.membership(project, in: visibleProjects)
            clauses.append(inProjects)
            arguments = arguments + projectIds
        }
        return (clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND "), arguments)
    }

    /// An appended event's line: its fields, with secrets as fingerprints (``EventSummary``).
    private static func entry(_ recorded: RecordedEvent) throws -> AuditEntry {
        let event = try ProjectedEvent(recorded)
        return AuditEntry(at: recorded.recordedAt.iso8601, position: recorded.position, outcome: "appended", projectId: recorded.projectId,
                          connectionId: event.connectionId, actorId: recorded.actor.id, actorRole: recorded.actor.roleName,
                          action: recorded.type, detail: EventSummary.text(EventSummary.fields(of: event)),
                          correlationId: recorded.correlationId)
    }

    /// Both lists merged by time (each is in time order); at the same time, appended events (in
    /// log order) come before refusals, and refusals before reads.
    private static func merged(_ appended: [AuditEntry], _ others: [AuditEntry]) -> [AuditEntry] {
        var merged: [AuditEntry] = []
        merged.reserveCapacity(appended.count + others.count)
        var (a, o) = (appended[...], others[...])
        while let next = a.first, let other = o.first {
            if Self.precedes(other.at, next.at) { merged.append(o.removeFirst()) } else { merged.append(a.removeFirst()) }
        }
        merged.append(contentsOf: a)
        merged.append(contentsOf: o)
        return merged
    }

    /// Text order as SQLite's `BINARY` collation sorts it (by UTF-8 bytes).
    private static func precedes(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }
}
