import CredlogEvents
import Foundation

/// The reports credlog produces. Their column names are a contract with the people who
/// feed them elsewhere: they are documented in the README and never renamed.
public enum Report: String, Sendable, CaseIterable {
    case connections
    case flowUsage = "flow-usage"
    case statusHistory = "status-history"
    case audit

    /// The columns, in order.
    public var columns: [String] {
        switch self {
        case .connections:
            ["connection_id", "project_id", "piece", "auth_type", "name", "status", "status_reason", "flow_count",
             "connected_at", "status_changed_at", "credential_expires_at", "credential_fingerprint", "created_by", "reconnected_by"]
        case .flowUsage:
            ["flow_id", "connection_id", "project_id", "connection_name", "attached_at", "detached_at"]
        case .statusHistory:
            ["position", "connection_id", "project_id", "from_status", "to_status", "at", "reason", "actor_id", "actor_role"]
        case .audit:
            ["at", "position", "outcome", "project_id", "connection_id", "actor_id", "actor_role", "action", "detail", "correlation_id"]
        }
    }

    /// The report's rows (cells as text, `nil` when empty), for the given projects (`nil`: all).
    public func rows(_ db: any SQLSession, projects: [String]?) throws -> [[String?]] {
        let (inProjects, arguments) = projects.map { SQLArguments.membership("project_id", in: $0) } ?? ("", [])
        let filter = projects == nil ? "" : "WHERE " + inProjects
        let sql: String
        switch self {
        case .connections:
            sql = """
                SELECT id, project_id, piece, auth_type, name, status, status_reason, flow_count, connected_at,
                       status_changed_at, credential_expires_at, credential_fingerprint, created_by, reconnected_by
                FROM connections \(filter) ORDER BY project_id, name_key, id
                """
        case .flowUsage:
            sql = """
                SELECT * FROM (SELECT u.flow_id, u.connection_id, u.project_id, c.name AS connection_name, u.attached_at, u.detached_at,
                                      u.attached_position
                               FROM flow_usage u LEFT JOIN connections c ON c.id = u.connection_id) AS uses
                \(filter) ORDER BY attached_position
                """
        case .statusHistory:
            sql = """
                SELECT position, connection_id, project_id, from_status, to_status, at, reason, actor_id, actor_role
                FROM status_history \(filter) ORDER BY position
                """
        case .audit:
            return try AuditQuery(visibleProjects: projects).fetch(db).map(Self.cells)
        }
        let width = columns.count
        return try db.fetchAll(sql: sql, arguments: arguments).map { row in
            (0..<width).map { index in
                switch row.values[index] {
                case .null: nil
                case .integer(let integer): String(integer)
                case .real(let real): String(real)
                case .text(let text): text
                case .blob(let data): data.base64EncodedString()
                }
            }
        }
    }
}

extension Report {
    /// The report's rows now, or as at `asOf`. As at a moment, the connections, flow usage and
    /// status history are folded in memory from the log up to then (``ReadModelsAsOf``: one scan
    /// of the log's prefix); the audit trail is the lines recorded up to then.
    public func rows(of database: any SQLDatabase, asOf: Timestamp?, projects: [String]?) async throws -> [[String?]] {
        guard let asOf else { return try await database.read { db in try rows(db, projects: projects) } }
        let visible = { (project: String) in projects?.contains(project) ?? true }
        switch self {
        case .audit:
            return try await database.read { db in
                try AuditQuery(until: asOf.iso8601, visibleProjects: projects).fetch(db).map(Self.cells)
            }
        case .connections:
            return Self.connectionRows(try await ReadModelsAsOf.fold(database, upTo: asOf, keeping: []), visible)
        case .flowUsage:
            let models = try await ReadModelsAsOf.fold(database, upTo: asOf, keeping: .flowUses)
            return models.flowUses.filter { visible($0.projectId) }.map { use in
                [use.flowId, use.connectionId, use.projectId, models.connection(use.connectionId)?.name, use.attachedAt, use.detachedAt]
            }
        case .statusHistory:
            return try await ReadModelsAsOf.fold(database, upTo: asOf, keeping: .statusHistory).statusHistory.filter { visible($0.projectId) }.map { change in
                [String(change.position), change.connectionId, change.projectId, change.fromStatus?.rawValue, change.toStatus.rawValue,
                 change.at, change.reason, change.actorId, change.actorRole]
            }
        }
    }

    /// The connections report's rows from folded read models, in the table's order (text in byte
    /// order, as SQLite's `BINARY` collation sorts it).
    private static func connectionRows(_ models: ReadModelsAsOf, _ visible: (String) -> Bool) -> [[String?]] {
        models.connections.filter { visible($0.projectId) }
            .sorted { a, b in
                if a.projectId != b.projectId { return a.projectId.utf8.lexicographicallyPrecedes(b.projectId.utf8) }
                if a.nameKey != b.nameKey { return a.nameKey.utf8.lexicographicallyPrecedes(b.nameKey.utf8) }
                return a.id.utf8.lexicographicallyPrecedes(b.id.utf8)
            }
            .map { row in
                [row.id, row.projectId, row.piece, row.authType, row.name, row.status.rawValue, row.statusReason, String(row.flowCount),
                 row.connectedAt.iso8601, row.statusChangedAt.iso8601, row.credentialExpiresAt, row.credentialFingerprint,
                 row.createdBy, row.reconnectedBy]
            }
    }

    private static func cells(_ entry: AuditEntry) -> [String?] {
        [entry.at, entry.position.map(String.init), entry.outcome, entry.projectId, entry.connectionId, entry.actorId,
         entry.actorRole, entry.action, entry.detail, entry.correlationId]
    }
}
