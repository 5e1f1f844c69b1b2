import CredlogEvents
import GRDB

/// The connections table, with a trigram index for name search.
public struct ConnectionsProjection: Projection {
    public let name = "connections"
    /// 2: `connections_search_vocab`, the trigram counts that pick a search's rarest trigrams.
    public let version = 2
    public let tables = ["connections", "connections_search", "connections_search_vocab"]

    public init() {}

    public func createTables(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE connections (
                id TEXT PRIMARY KEY, project_id TEXT NOT NULL, piece TEXT NOT NULL, auth_type TEXT NOT NULL,
                name TEXT NOT NULL, name_key TEXT NOT NULL, status TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
                status_reason TEXT, flow_count INTEGER NOT NULL CHECK (flow_count >= 0), connected_at TEXT NOT NULL,
                status_changed_at TEXT NOT NULL, credential_expires_at TEXT, credential_fingerprint TEXT NOT NULL,
                last_position INTEGER NOT NULL);
            CREATE INDEX connections_by_name ON connections (project_id, name_key, id);
            CREATE INDEX connections_by_status_name ON connections (project_id, status, name_key, id);
            CREATE INDEX connections_by_connected ON connections (project_id, connected_at, id);
            CREATE INDEX connections_by_status_connected ON connections (project_id, status, connected_at, id);
            -- Case-insensitive substring search over any script: trigrams of the folded name.
            CREATE VIRTUAL TABLE connections_search USING fts5 (name_key, tokenize = 'trigram');
            -- How many names hold each trigram (a view over the index: nothing more is stored).
            CREATE VIRTUAL TABLE connections_search_vocab USING fts5vocab (connections_search, 'row');
            """)
    }

    public func apply(_ event: ProjectedEvent, _ db: Database) throws {
        guard let (connectionId, decoded) = event.connection else { return }
        let before = try ConnectionRow.fetchOne(
            db.cachedStatement(sql: "SELECT \(ConnectionRow.columns) FROM connections WHERE id = ?"), arguments: [connectionId])
        let after = ConnectionRow.evolve(before, decoded, at: event.recorded.recordedAt, position: event.recorded.position)
        switch (before, after) {
        case (nil, nil):
            break
        case (_?, nil):
            try db.cachedStatement(sql: "DELETE FROM connections_search WHERE rowid = (SELECT rowid FROM connections WHERE id = ?)")
                .execute(arguments: [connectionId])
            try db.cachedStatement(sql: "DELETE FROM connections WHERE id = ?").execute(arguments: [connectionId])
        case (nil, let row?):
            try db.cachedStatement(sql: "INSERT INTO connections (\(ConnectionRow.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
                .execute(arguments: row.values)
            try db.cachedStatement(sql: "INSERT INTO connections_search (rowid, name_key) VALUES (?, ?)")
                .execute(arguments: [db.lastInsertedRowID, row.nameKey])
        case (let old?, let row?):
            try db.cachedStatement(sql: """
                UPDATE connections SET name = ?, name_key = ?, status = ?, status_reason = ?, flow_count = ?, connected_at = ?,
                    status_changed_at = ?, credential_expires_at = ?, credential_fingerprint = ?, last_position = ?
                WHERE id = ?
                """).execute(arguments: [row.name, row.nameKey, row.status, row.statusReason, row.flowCount, row.connectedAt,
                                         row.statusChangedAt, row.credentialExpiresAt, row.credentialFingerprint, row.lastPosition, row.id])
            if old.nameKey != row.nameKey {
                try db.cachedStatement(sql: "UPDATE connections_search SET name_key = ? WHERE rowid = (SELECT rowid FROM connections WHERE id = ?)")
                    .execute(arguments: [row.nameKey, connectionId])
            }
        }
    }
}
