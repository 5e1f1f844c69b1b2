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
             "connected_at", "status_changed_at", "credential_expires_at", "credential_fingerprint"]
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
                       status_changed_at, credential_expires_at, credential_fingerprint
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
            return try AuditQuery(visibleProjects: projects).fetch(db).map { entry in
                [entry.at, entry.position.map(String.init), entry.outcome, entry.projectId, entry.connectionId, entry.actorId,
                 entry.actorRole, entry.action, entry.detail, entry.correlationId]
            }
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
    /// The report's rows now, or as at `asOf`: the log up to that time is replayed into a
    /// scratch database first (removed afterwards), so the projections are as they were then.
    public func rows(of database: any SQLDatabase, asOf: Timestamp?, projects: [String]?) async throws -> [[String?]] {
        guard let asOf else { return try await database.read { db in try rows(db, projects: projects) } }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("credlog-report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("as-of.sqlite").path
        _ = try await Replayer.replay(from: database, until: asOf, into: path)
        let replayed = try CredlogDatabase.open(path: path)
        defer { try? replayed.close() }
        return try await SQLiteDatabase(replayed).read { db in try rows(db, projects: projects) }
    }
}
