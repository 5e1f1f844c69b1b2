import CredlogEvents

/// One use of a connection by a flow.
public struct FlowUse: Sendable, Equatable, ReadModelRecord {
    public var flowId: String
    public var connectionId: String
    public var projectId: String
    public var connectionName: String?
    public var attachedAt: String
    public var detachedAt: String?

}

/// Flow usage queries.
public enum FlowUsageQuery {
    static let select = """
        SELECT u.flow_id, u.connection_id, u.project_id, c.name AS connection_name, u.attached_at, u.detached_at
        FROM flow_usage u LEFT JOIN connections c ON c.id = u.connection_id
        """

    /// The flows using a connection now, by flow id: those after `after`, at most `limit`
    /// (every one when `nil`).
    public static func flows(usingConnection id: String, after: String? = nil, limit: Int? = nil, _ db: any SQLSession) throws -> [FlowUse] {
        try db.fetchAll(FlowUse.self, sql: select + " WHERE u.connection_id = ? AND u.detached_position IS NULL AND u.flow_id > ?"
                            + " ORDER BY u.flow_id" + (limit == nil ? "" : " LIMIT ?"),
                        arguments: [id, after ?? ""] + SQLArguments(limit.map { [.integer(Int64($0))] } ?? []))
    }

    /// The connections a flow uses now, in `projects` (`nil`: all), by connection id: those after
    /// `after`, at most `limit` (every one when `nil`).
    public static func connections(usedByFlow flowId: String, projects: [String]?, after: String? = nil, limit: Int? = nil,
                                   _ db: any SQLSession) throws -> [FlowUse] {
        let (inProjects, projectIds) = SQLArguments.membership("u.project_id", in: projects ?? [])
        return try db.fetchAll(FlowUse.self, sql: select + " WHERE u.flow_id = ? AND u.detached_position IS NULL AND u.connection_id > ?"
                                   + (projects == nil ? "" : " AND " + inProjects) + " ORDER BY u.connection_id"
                                   + (limit == nil ? "" : " LIMIT ?"),
                               arguments: [flowId, after ?? ""] + projectIds + SQLArguments(limit.map { [.integer(Int64($0))] } ?? []))
    }

    /// The connections a flow was using at `time` (attached at or before it, not yet detached), in
    /// `projects` (`nil`: all).
    public static func connections(usedByFlow flowId: String, at time: String, projects: [String]?, _ db: any SQLSession) throws
        -> [FlowUse] {
        let (inProjects, projectIds) = SQLArguments.membership("u.project_id", in: projects ?? [])
        return try db.fetchAll(FlowUse.self, sql: select + " WHERE u.flow_id = ? AND u.attached_at <= ? AND (u.detached_at IS NULL OR u.detached_at > ?)"
                                   + (projects == nil ? "" : " AND " + inProjects) + " ORDER BY u.connection_id",
                               arguments: [flowId, time, time] + projectIds)
    }
}
