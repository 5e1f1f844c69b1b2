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

    /// Rows read in one batch of a streamed report.
    public static let batchSize = 1000

    /// The report's rows now, for the given projects (`nil`: all), in batches of at most
    /// `batchSize`, each read in its own short read transaction after the last row of the batch
    /// before. The key of that keyset is one no change moves (a connection's id, a flow use's key,
    /// a log position, the audit trail's cursor), so every row appears once and a report of any
    /// size is written in the memory of one batch; a row changed while the report is written
    /// appears as its batch read it, rows added meanwhile appear when the report reaches them.
    /// The audit trail can end at `auditUntil` (its lines recorded up to then).
    public func batches(of database: any SQLDatabase, projects: [String]?, batchSize: Int = Report.batchSize, auditUntil: Timestamp? = nil,
                        _ body: ([[String?]]) async throws -> Void) async throws {
        let size = max(1, batchSize)
        if self == .audit {
            var query = AuditQuery(until: auditUntil?.iso8601, visibleProjects: projects, limit: size)
            while true {
                let page = try await database.read { [query] db in try query.page(db) }
                if !page.entries.isEmpty { try await body(page.entries.map(Self.cells)) }
                guard let next = page.nextCursor else { return }
                query.after = next
            }
        }
        var after: [SQLValue]?
        while true {
            let batch = try await database.read { [after] db in try rows(db, projects: projects, after: after, limit: size) }
            guard let last = batch.last else { return }
            try await body(batch.map(\.cells))
            if batch.count < size { return }
            after = last.key
        }
    }

    /// The columns a batch resumes after, in the order they give.
    private var keyColumns: [String] {
        switch self {
        case .connections: ["id"]
        case .flowUsage: ["connection_id", "flow_id", "attached_position"]
        case .statusHistory: ["position"]
        case .audit: []
        }
    }

    /// What a report's rows are read from: its cells' columns, from a table or a query.
    private var source: String {
        switch self {
        case .connections:
            """
            SELECT id, project_id, piece, auth_type, name, status, status_reason, flow_count, connected_at,
                   status_changed_at, credential_expires_at, credential_fingerprint, created_by, reconnected_by
            """
        case .flowUsage:
            """
            SELECT flow_id, connection_id, project_id, connection_name, attached_at, detached_at
            """
        case .statusHistory:
            "SELECT position, connection_id, project_id, from_status, to_status, at, reason, actor_id, actor_role"
        case .audit:
            ""
        }
    }

    private var table: String {
        switch self {
        case .connections: "connections"
        case .flowUsage:
            """
            (SELECT u.flow_id, u.connection_id, u.project_id, c.name AS connection_name, u.attached_at, u.detached_at, u.attached_position
             FROM flow_usage u LEFT JOIN connections c ON c.id = u.connection_id) AS uses
            """
        case .statusHistory: "status_history"
        case .audit: ""
        }
    }

    /// At most `limit` rows after the key `after` (from the first without it): each row's cells, and its key.
    private func rows(_ db: any SQLSession, projects: [String]?, after: [SQLValue]?,
                      limit: Int) throws -> [(cells: [String?], key: [SQLValue])] {
        var clauses: [String] = []
        var arguments: SQLArguments = []
        if let projects {
            let (inProjects, projectIds) = SQLArguments.membership("project_id", in: projects)
            clauses.append(inProjects)
            arguments = arguments + projectIds
        }
        let keys = keyColumns.joined(separator: ", ")
        if let after {
            clauses.append("(\(keys)) > (\(SQLArguments.placeholders(after.count)))")
            arguments = arguments + SQLArguments(after)
        }
        arguments.append(limit)
        let filter = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        let width = columns.count
        return try db.fetchAll(sql: "\(source), \(keys) FROM \(table) \(filter) ORDER BY \(keys) LIMIT ?", arguments: arguments).map { row in
            let cells = row.values.prefix(width).map { value -> String? in
                switch value {
                case .null: nil
                case .integer(let integer): String(integer)
                case .real(let real): String(real)
                case .text(let text): text
                case .blob(let data): data.base64EncodedString()
                }
            }
            return (cells, Array(row.values.suffix(from: width)))
        }
    }
}

extension Report {
    /// The report's rows now, or as at `asOf`. As at a moment, the connections, flow usage and
    /// status history are folded in memory from the log up to then (``ReadModelsAsOf``: one scan
    /// of the log's prefix); the audit trail is the lines recorded up to then.
    public func rows(of database: any SQLDatabase, asOf: Timestamp?, projects: [String]?) async throws -> [[String?]] {
        guard let asOf else {
            var rows: [[String?]] = []
            try await batches(of: database, projects: projects) { rows += $0 }
            return rows
        }
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
            return models.flowUses.filter { visible($0.projectId) }.sorted(by: Self.keyOrder).map { use in
                [use.flowId, use.connectionId, use.projectId, models.connection(use.connectionId)?.name, use.attachedAt, use.detachedAt]
            }
        case .statusHistory:
            return try await ReadModelsAsOf.fold(database, upTo: asOf, keeping: .statusHistory).statusHistory.filter { visible($0.projectId) }.map { change in
                [String(change.position), change.connectionId, change.projectId, change.fromStatus?.rawValue, change.toStatus.rawValue,
                 change.at, change.reason, change.actorId, change.actorRole]
            }
        }
    }

    /// The flow usage report's order: by connection, flow and attachment (text in byte order, as
    /// SQLite's `BINARY` collation sorts it).
    private static func keyOrder(_ a: ReadModelsAsOf.FlowUseRow, _ b: ReadModelsAsOf.FlowUseRow) -> Bool {
        if a.connectionId != b.connectionId { return a.connectionId.utf8.lexicographicallyPrecedes(b.connectionId.utf8) }
        if a.flowId != b.flowId { return a.flowId.utf8.lexicographicallyPrecedes(b.flowId.utf8) }
        return a.attachedPosition < b.attachedPosition
    }

    /// The connections report's rows from folded read models, in the report's order (by id, in
    /// byte order).
    private static func connectionRows(_ models: ReadModelsAsOf, _ visible: (String) -> Bool) -> [[String?]] {
        models.connections.filter { visible($0.projectId) }
            .sorted { a, b in a.id.utf8.lexicographicallyPrecedes(b.id.utf8) }
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

extension Report {
    /// Writes the report in `format` through `write`, piece by piece as its rows are read
    /// (``batches(of:projects:batchSize:_:)``): a report now takes the memory of one batch
    /// whatever its size; a table reads the rows twice (its columns' widths, then the rows). As at
    /// a moment, the report is folded first (``rows(of:asOf:projects:)``) and written at once,
    /// except the audit trail, which streams up to then.
    public func write(_ format: ReportFormat, of database: any SQLDatabase, asOf: Timestamp?, projects: [String]?,
                      batchSize: Int = Report.batchSize, to write: (String) async throws -> Void) async throws {
        if let asOf, self != .audit {
            try await write(try format.render(columns: columns, rows: try await rows(of: database, asOf: asOf, projects: projects)))
            return
        }
        guard format.streams else {
            var widths = columns.map(\.count)
            try await batches(of: database, projects: projects, batchSize: batchSize, auditUntil: asOf) { ReportFormat.widen(&widths, $0) }
            try await write(format.table(columns, widths: widths))
            try await batches(of: database, projects: projects, batchSize: batchSize, auditUntil: asOf) { try await write(format.table($0, widths: widths)) }
            return
        }
        try await write(format.head(columns: columns))
        var first = true
        try await batches(of: database, projects: projects, batchSize: batchSize, auditUntil: asOf) { rows in
            try await write(try format.body(columns: columns, rows: rows, first: first))
            first = false
        }
        try await write(format.tail)
    }
}
