/// Applies ``LogSchema``'s migrations to PostgreSQL, recorded in `credlog_migrations` on open.
enum PostgresSchema {
    static let migrations = LogSchema.migrations(.postgres)

    /// No row of the log is ever changed or removed, not even by `TRUNCATE`.
    static let appendOnlyTriggers = """
        CREATE FUNCTION credlog_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'credlog events are append-only: % refused', TG_OP;
        END
        $$;
        CREATE TRIGGER events_refuse_change BEFORE UPDATE OR DELETE ON events
            FOR EACH ROW EXECUTE FUNCTION credlog_refuse_change();
        CREATE TRIGGER events_refuse_truncate BEFORE TRUNCATE ON events
            FOR EACH STATEMENT EXECUTE FUNCTION credlog_refuse_change();
        """

    /// Applies the migrations this database lacks, in one transaction, holding the writer lock
    /// (servers starting together migrate once). Refuses a database that has migrations this
    /// credlog does not know: it was upgraded by a newer credlog.
    static func migrate(_ database: PostgresDatabase) async throws {
        let known = migrations.map(\.identifier)
        let name = database.location.description
        // Usually nothing is to do: check with a read, so that opening takes no write lock.
        let applied: [String]? = try await database.read { db in
            try db.tableExists("credlog_migrations")
                ? try db.fetchAll(sql: "SELECT identifier FROM credlog_migrations").map { try $0[0] as String } : nil
        }
        if let applied, applied.sorted() == known.sorted() { return }
        try await database.write { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS credlog_migrations (
                    identifier TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())
                """)
            let applied = try db.fetchAll(sql: "SELECT identifier FROM credlog_migrations").map { try $0[0] as String }
            let unknown = applied.filter { !known.contains($0) }
            guard unknown.isEmpty else { throw StoreError.newerSchema(database: name, unknown: unknown) }
            for (identifier, script) in migrations where !applied.contains(identifier) {
                try db.executeScript(script)
                try db.execute(sql: "INSERT INTO credlog_migrations (identifier) VALUES (?)", arguments: [identifier])
            }
        }
    }
}
