import CredlogDomain
import CredlogEvents

/// The read side's one door, beside the write side's ``CommandService``: the API, the page and
/// the CLI read connections, their history and their flows through it. Each read takes the
/// ``Reader`` and checks once that it sees what it asks for; what it may not see is "not found".
public struct QueryService: Sendable {
    public let store: any EventStore
    public let database: any SQLDatabase
    let service: CommandService
    /// The name search's index: kept for as long as this service (and its copies) live.
    let names = NameSearchIndex()

    public init(store: any EventStore, database: any SQLDatabase, service: CommandService) {
        self.store = store
        self.database = database
        self.service = service
    }

    /// Who reads: a principal (`nil` for the operator, who sees every project), limited to one
    /// project when its token or session is.
    public struct Reader: Sendable {
        public var principal: Principal?
        public var projectScope: String?

        public init(_ principal: Principal?, projectScope: String? = nil) {
            self.principal = principal
            self.projectScope = projectScope
        }
    }

    /// The projects the reader sees; `nil` for all (the operator, `system` and `engine` unscoped).
    public func visibleProjects(for reader: Reader) async throws -> [String]? {
        var projects: [String]?
        if case .member(let id)? = reader.principal {
            projects = try await database.read { db in try ProjectMembersProjection.projects(of: id, db) }
        }
        guard let scope = reader.projectScope else { return projects }
        return projects.map { $0.contains(scope) ? [scope] : [] } ?? [scope]
    }

    /// Whether the reader sees `projectId`.
    func sees(project projectId: String, _ reader: Reader) async throws -> Bool {
        guard reader.projectScope == nil || reader.projectScope == projectId else { return false }
        guard let principal = reader.principal else { return true }
        return try await service.caller(principal, in: projectId).actor != nil
    }

    /// Throws "not found" unless the connection exists (deleted ones included) in a project the reader sees.
    func checkVisible(connection id: String, _ reader: Reader) async throws {
        let project: String? = try await database.read { db in
            try db.fetchValue(sql: "SELECT project_id FROM status_history WHERE connection_id = ? ORDER BY position LIMIT 1",
                              arguments: [id])
        }
        guard let project, try await sees(project: project, reader) else { throw DomainError.notFound("connection \(id)") }
    }

    /// A page of a project's connections table.
    public func connections(_ list: ConnectionList, for reader: Reader) async throws -> ConnectionList.Page {
        guard try await sees(project: list.projectId, reader) else { throw DomainError.notFound("project \(list.projectId)") }
        var list = list
        if list.status == .expiring {
            let project = try await service.loadProject(list.projectId).state
            list.renewablePieces = service.pieces.pieces(in: project).filter(\.hasOAuth2Client).map(\.id)
        }
        return try await database.read { [names, list] db in try list.fetch(db, names: names) }
    }

    /// A connection now, or as it was at `point`: "not found" if it did not exist yet then.
    public func connection(_ id: String, at point: PointInTime? = nil, for reader: Reader) async throws -> ConnectionDetail {
        let events = try await store.readStream(.connection(id), from: 1)
        guard let project = events.first?.projectId, try await sees(project: project, reader) else {
            throw DomainError.notFound("connection \(id)")
        }
        guard let snapshot = try ConnectionSnapshot.fold(events, upTo: point ?? .position(.max)), let detail = ConnectionDetail(snapshot) else {
            throw DomainError.notFound("connection \(id) at that moment (it did not exist yet)")
        }
        return detail
    }

    /// A connection's status transitions, oldest first.
    public func statusHistory(of id: String, for reader: Reader) async throws -> [StatusChange] {
        try await checkVisible(connection: id, reader)
        return try await database.read { db in try StatusHistoryQuery.history(of: id, db) }
    }

    /// At most `limit` of a connection's status changes after the cursor `after`.
    public func statusHistory(of id: String, limit: Int, after: String?, for reader: Reader) async throws -> StatusHistoryQuery.Page {
        try await checkVisible(connection: id, reader)
        return try await database.read { db in try StatusHistoryQuery.page(of: id, limit: limit, after: after, db) }
    }

    /// The flows using a connection now, by flow id (after `after`, at most `limit`; all when `nil`).
    public func flows(usingConnection id: String, after: String? = nil, limit: Int? = nil, for reader: Reader) async throws -> [FlowUse] {
        try await checkVisible(connection: id, reader)
        return try await database.read { db in try FlowUsageQuery.flows(usingConnection: id, after: after, limit: limit, db) }
    }

    /// The connections a flow uses now, in the projects the reader sees, by connection id (after
    /// `after`, at most `limit`; all when `nil`).
    public func connections(usedByFlow flow: String, after: String? = nil, limit: Int? = nil, for reader: Reader) async throws -> [FlowUse] {
        let projects = try await visibleProjects(for: reader)
        return try await database.read { db in
            try FlowUsageQuery.connections(usedByFlow: flow, projects: projects, after: after, limit: limit, db)
        }
    }

    /// What the flow's connections were like when its run failed at `time`, in the projects the reader sees.
    public func diagnose(flow: String, at time: Timestamp, window: Duration, for reader: Reader) async throws -> FlowDiagnosis {
        try await FlowDebugger(store: store, database: database)
            .diagnose(flow: flow, at: time, window: window, visibleProjects: try await visibleProjects(for: reader))
    }

    /// The log's events after a position, in the projects the reader sees (the feed).
    public func events(_ feed: EventFeed, for reader: Reader) async throws -> EventFeed.Page {
        let projects = try await visibleProjects(for: reader)
        return try await database.read { db in try feed.fetch(projects: projects, db) }
    }

    /// A page of the audit trail (every entry after the cursor when the query has no limit),
    /// limited to the projects the reader sees.
    public func audit(_ query: AuditQuery, for reader: Reader) async throws -> AuditQuery.Page {
        var limited = query
        limited.visibleProjects = try await visibleProjects(for: reader)
        return try await database.read { [limited] db in try limited.page(db) }
    }
}
