import CredlogEvents

/// The connections table. Name search reads it through an in-memory index the querying process
/// keeps (``NameSearchIndex``), not through a table of its own.
public struct ConnectionsProjection: Projection {
    public let name = "connections"
    /// 3: `connection_name_trigrams` (each trigram's names in name order) replaces the FTS5 index.
    /// 4: when the credential was set and whether credlog renews it (for the sweeper).
    /// 5: trigram rows keep a short prefix of the name key, not the whole name (bounded size).
    /// 6: trigram rows no longer copy the status (a status change writes one row, not one per trigram).
    /// 7: no trigram table: name search is an in-memory index of the querying process.
    /// 8: an index by piece (a builder's Connection dropdown lists one piece's connections).
    /// 9: who created each connection and who last reconnected it, with an index by owner.
    /// 10: when each connection was last rechecked (the sweeper's daily recheck reads it).
    public let version = 10
    public let tables = ["connections"]

    public init() {}

    public func createTables(_ db: any SQLSession) throws {
        try db.executeScript(db.dialect.tableDefinition("""
            CREATE TABLE connections (
                id TEXT PRIMARY KEY, project_id TEXT NOT NULL, piece TEXT NOT NULL, auth_type TEXT NOT NULL,
                name TEXT NOT NULL, name_key TEXT NOT NULL, status TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
                status_reason TEXT, flow_count INTEGER NOT NULL CHECK (flow_count >= 0), connected_at TEXT NOT NULL,
                status_changed_at TEXT NOT NULL, credential_expires_at TEXT, credential_fingerprint TEXT NOT NULL,
                credential_set_at TEXT NOT NULL, credential_refreshable INTEGER NOT NULL, last_position INTEGER NOT NULL,
                created_by TEXT NOT NULL, reconnected_by TEXT, last_checked_at TEXT);
            """))
    }

    /// The list's orders and filters, and the sweeper's questions (which active credentials
    /// expire soon, which were set long ago); `apply` reads rows by id only.
    public let queryIndexes = [
        "CREATE INDEX connections_by_name ON connections (project_id, name_key, id)",
        "CREATE INDEX connections_by_status_name ON connections (project_id, status, name_key, id)",
        "CREATE INDEX connections_by_connected ON connections (project_id, connected_at, id)",
        "CREATE INDEX connections_by_status_connected ON connections (project_id, status, connected_at, id)",
        "CREATE INDEX connections_by_piece ON connections (project_id, piece)",
        "CREATE INDEX connections_by_owner ON connections (project_id, created_by)",
        "CREATE INDEX connections_by_expiry ON connections (credential_expires_at) WHERE credential_expires_at IS NOT NULL",
    ]

    public func apply(_ event: ProjectedEvent, _ db: any SQLSession) throws {
        try apply([event], db)
    }

    /// Reads the rows of the batch's connections once, folds every event in memory
    /// (``ConnectionRow/evolve(_:_:at:by:position:)``), and writes each changed row once.
    public func apply(_ events: [ProjectedEvent], _ db: any SQLSession) throws {
        let changes = events.compactMap { event in event.connection.map { (event, $0.id, $0.event) } }
        guard !changes.isEmpty else { return }
        var ids: [String] = []
        var seen = Set<String>()
        for (_, id, _) in changes where seen.insert(id).inserted { ids.append(id) }
        var before: [String: ConnectionRow] = [:]
        for row in try db.fetchAll(forEach: ids, sql: { "SELECT \(ConnectionRow.columnList) FROM connections WHERE id IN (\($0))" }) {
            let connection = try ConnectionRow(positional: row)
            before[connection.id] = connection
        }
        var after = before
        for (event, id, decoded) in changes {
            ConnectionRow.evolve(&after[id], decoded, at: event.recorded.recordedAt, by: event.recorded.actor, position: event.recorded.position)
        }
        // Rows created in this batch are inserted together; the others are rewritten one by one.
        var created: [[SQLValue]] = []
        for id in ids where before[id] != after[id] {
            switch (before[id], after[id]) {
            case (nil, let row?): created.append(row.values)
            case (_?, let row?): try db.execute(sql: Self.upsert, arguments: SQLArguments(row.values))
            default: try db.execute(sql: "DELETE FROM connections WHERE id = ?", arguments: [id])
            }
        }
        try db.insert(into: "connections", columns: ConnectionRow.columns, rows: created)
    }

    /// Writes a row whole, by position (``ConnectionRow/values``). An existing row keeps the
    /// columns no event changes after the creation, so that the indexes on them are not rewritten.
    private static let upsert = "INSERT INTO connections (\(ConnectionRow.columnList)) VALUES (\(SQLArguments.placeholders(ConnectionRow.columns.count))) "
        + "ON CONFLICT (id) DO UPDATE SET "
        + ConnectionRow.columns.filter { !["id", "project_id", "piece", "auth_type", "created_by"].contains($0) }.map { "\($0) = excluded.\($0)" }
            .joined(separator: ", ")
}
