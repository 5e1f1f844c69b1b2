import CredlogEvents

/// The connections table, with a trigram index for name search.
public struct ConnectionsProjection: Projection {
    public let name = "connections"
    /// 3: `connection_name_trigrams` (each trigram's names in name order) replaces the FTS5 index.
    /// 4: when the credential was set and whether credlog renews it (for the sweeper).
    /// 5: trigram rows keep a short prefix of the name key, not the whole name (bounded size).
    /// 6: trigram rows no longer copy the status (a status change writes one row, not one per trigram).
    public let version = 6
    public let tables = ["connections", "connection_name_trigrams", "connection_name_trigrams_state"]

    public init() {}

    public func createTables(_ db: any SQLSession) throws {
        try db.executeScript(db.dialect.tableDefinition("""
            CREATE TABLE connections (
                id TEXT PRIMARY KEY, project_id TEXT NOT NULL, piece TEXT NOT NULL, auth_type TEXT NOT NULL,
                name TEXT NOT NULL, name_key TEXT NOT NULL, status TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
                status_reason TEXT, flow_count INTEGER NOT NULL CHECK (flow_count >= 0), connected_at TEXT NOT NULL,
                status_changed_at TEXT NOT NULL, credential_expires_at TEXT, credential_fingerprint TEXT NOT NULL,
                credential_set_at TEXT NOT NULL, credential_refreshable INTEGER NOT NULL, last_position INTEGER NOT NULL);
            -- Case-insensitive substring search over any script: each trigram of the folded name,
            -- keyed by the name key's first code points so that a term's rarest trigram lists its
            -- names nearly in name order (a page of matches is the first rows of one range, sorted
            -- only among names sharing a prefix), without copying the whole name into each row.
            CREATE TABLE connection_name_trigrams (
                project_id TEXT NOT NULL, trigram TEXT NOT NULL, name_prefix TEXT NOT NULL, id TEXT NOT NULL,
                PRIMARY KEY (project_id, trigram, name_prefix, id)) WITHOUT ROWID;
            -- While a non-empty log is replayed into a new table, the trigrams wait: they are made
            -- in one sorted pass once the replay reaches the head (far faster than row by row).
            CREATE TABLE connection_name_trigrams_state (pending INTEGER NOT NULL);
            INSERT INTO connection_name_trigrams_state SELECT CASE WHEN EXISTS (SELECT 1 FROM events) THEN 1 ELSE 0 END;
            """))
    }

    /// The list's orders and filters, and the sweeper's questions (which active credentials
    /// expire soon, which were set long ago); `apply` reads rows by id only.
    public let queryIndexes = [
        "CREATE INDEX connections_by_name ON connections (project_id, name_key, id)",
        "CREATE INDEX connections_by_status_name ON connections (project_id, status, name_key, id)",
        "CREATE INDEX connections_by_connected ON connections (project_id, connected_at, id)",
        "CREATE INDEX connections_by_status_connected ON connections (project_id, status, connected_at, id)",
        "CREATE INDEX connections_by_expiry ON connections (credential_expires_at) WHERE credential_expires_at IS NOT NULL",
    ]

    public func apply(_ event: ProjectedEvent, _ db: any SQLSession) throws {
        try apply([event], db)
    }

    /// Reads the rows of the batch's connections once, folds every event in memory
    /// (``ConnectionRow/evolve(_:_:at:position:)``), and writes each changed row once.
    public func apply(_ events: [ProjectedEvent], _ db: any SQLSession) throws {
        let changes = events.compactMap { event in event.connection.map { (event, $0.id, $0.event) } }
        guard !changes.isEmpty else { return }
        var ids: [String] = []
        var seen = Set<String>()
        for (_, id, _) in changes where seen.insert(id).inserted { ids.append(id) }
        var before: [String: ConnectionRow] = [:]
        for row in try db.fetchAll(forEach: ids, sql: { "SELECT \(Self.columnList) FROM connections WHERE id IN (\($0))" }) {
            let connection = try ConnectionRow(positional: row)
            before[connection.id] = connection
        }
        var after = before
        for (event, id, decoded) in changes {
            ConnectionRow.evolve(&after[id], decoded, at: event.recorded.recordedAt, position: event.recorded.position)
        }
        for id in ids where before[id] != after[id] { try write(from: before[id], to: after[id], id: id, db) }
    }

    /// Replaces a connection's row (and its trigram rows) with its folded state.
    private func write(from before: ConnectionRow?, to after: ConnectionRow?, id: String, _ db: any SQLSession) throws {
        switch (before, after) {
        case (nil, nil):
            break
        case (_?, nil):
            try db.execute(sql: "DELETE FROM connections WHERE id = ?", arguments: [id])
        case (_, let row?):
            try db.execute(sql: Self.upsert, arguments: SQLArguments(row.values))
        }
        try updateTrigrams(from: before, to: after, db)
    }

    private static let columnList = ConnectionRow.columns.joined(separator: ", ")
    /// Writes a row whole, by position (``ConnectionRow/values``).
    private static let upsert = "INSERT INTO connections (\(columnList)) VALUES (\(SQLArguments.placeholders(ConnectionRow.columns.count))) "
        + "ON CONFLICT (id) DO UPDATE SET " + ConnectionRow.columns.dropFirst().map { "\($0) = excluded.\($0)" }.joined(separator: ", ")

    public func hasDeferredWork(_ db: any SQLSession) throws -> Bool {
        try db.fetchValue(sql: "SELECT pending FROM connection_name_trigrams_state") ?? false
    }

    /// Makes every trigram row from the connections table, in key order, and ends the wait.
    /// (`length` and `substr` count Unicode scalars, as ``Trigrams`` does.)
    public func finishDeferredWork(_ db: any SQLSession) throws {
        try db.executeScript("""
            DELETE FROM connection_name_trigrams;
            WITH RECURSIVE offsets(i) AS (
                SELECT 1 UNION ALL
                SELECT i + 1 FROM offsets WHERE i < (SELECT COALESCE(MAX(length(name_key)), 0) - 2 FROM connections))
            INSERT INTO connection_name_trigrams (project_id, trigram, name_prefix, id)
            SELECT c.project_id, substr(c.name_key, offsets.i, 3), substr(c.name_key, 1, \(Trigrams.prefixLength)), c.id
            FROM connections AS c JOIN offsets ON offsets.i <= length(c.name_key) - 2
            WHERE true ORDER BY 1, 2, 3, 4
            ON CONFLICT DO NOTHING;
            UPDATE connection_name_trigrams_state SET pending = 0;
            """)
    }

    /// Keeps a connection's trigram rows in step with its name (unless they wait for the end of
    /// a replay).
    private func updateTrigrams(from before: ConnectionRow?, to after: ConnectionRow?, _ db: any SQLSession) throws {
        guard before?.nameKey != after?.nameKey, try !hasDeferredWork(db) else { return }
        if let before {
            for trigram in Trigrams.of(before.nameKey) {
                try db.execute(sql: """
                    DELETE FROM connection_name_trigrams WHERE project_id = ? AND trigram = ? AND name_prefix = ? AND id = ?
                    """, arguments: [before.projectId, trigram, Trigrams.sortPrefix(before.nameKey), before.id])
            }
        }
        if let after {
            for trigram in Trigrams.of(after.nameKey) {
                try db.execute(sql: "INSERT INTO connection_name_trigrams VALUES (?, ?, ?, ?)",
                               arguments: [after.projectId, trigram, Trigrams.sortPrefix(after.nameKey), after.id])
            }
        }
    }
}

/// The trigrams of a folded name or search term: every run of three Unicode scalars.
public enum Trigrams {
    /// Code points of the name key kept in each trigram row.
    public static let prefixLength = 16

    /// The first ``prefixLength`` code points of a name key: ordering by it, then by the whole
    /// key, is ordering by the key (UTF-8 byte order is code point order).
    public static func sortPrefix(_ nameKey: String) -> String {
        String(String.UnicodeScalarView(nameKey.unicodeScalars.prefix(prefixLength)))
    }

    public static func of(_ text: String) -> Set<String> {
        let scalars = Array(text.unicodeScalars)
        guard scalars.count >= 3 else { return [] }
        var trigrams = Set<String>()
        for start in 0...(scalars.count - 3) {
            var trigram = String.UnicodeScalarView()
            trigram.append(contentsOf: scalars[start..<start + 3])
            trigrams.insert(String(trigram))
        }
        return trigrams
    }
}
