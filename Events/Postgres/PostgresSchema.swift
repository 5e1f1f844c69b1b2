/// The PostgreSQL schema of a credlog database: the same migrations as ``LogSchema`` (same
/// identifiers, same tables), recorded in `credlog_migrations` and applied on open.
enum PostgresSchema {
    /// The migrations in order. Never edited once shipped; a change is a new migration.
    static let migrations: [(identifier: String, script: String)] = [
        ("v1: event log", """
            CREATE TABLE events (
                position        BIGINT  PRIMARY KEY CHECK (position > 0),
                stream_id       TEXT COLLATE "C" NOT NULL,
                stream_version  BIGINT  NOT NULL CHECK (stream_version > 0),
                event_id        TEXT    NOT NULL UNIQUE,
                event_type      TEXT    NOT NULL,
                schema_version  BIGINT  NOT NULL,
                recorded_at     TEXT    NOT NULL,
                actor_id        TEXT    NOT NULL,
                actor_role      TEXT    NOT NULL CHECK (actor_role IN ('admin', 'member', 'system', 'engine')),
                project_id      TEXT COLLATE "C" NOT NULL,
                correlation_id  TEXT COLLATE "C" NOT NULL,
                causation_id    TEXT    NOT NULL,
                payload         TEXT    NOT NULL,
                hash            BYTEA   NOT NULL,
                UNIQUE (stream_id, stream_version)
            );
            CREATE INDEX events_by_correlation ON events (correlation_id);
            CREATE INDEX events_by_project ON events (project_id, position);
            -- Append-only: no row of the log is ever changed or removed, not even by TRUNCATE.
            CREATE FUNCTION credlog_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'credlog events are append-only: % refused', TG_OP;
            END
            $$;
            CREATE TRIGGER events_refuse_change BEFORE UPDATE OR DELETE ON events
                FOR EACH ROW EXECUTE FUNCTION credlog_refuse_change();
            CREATE TRIGGER events_refuse_truncate BEFORE TRUNCATE ON events
                FOR EACH STATEMENT EXECUTE FUNCTION credlog_refuse_change();

            CREATE TABLE idempotency_keys (
                key             TEXT    PRIMARY KEY,
                request_digest  TEXT    NOT NULL,
                stream_id       TEXT    NOT NULL,
                first_position  BIGINT  NOT NULL,
                last_position   BIGINT  NOT NULL,
                stream_version  BIGINT  NOT NULL
            );
            CREATE TABLE refusals (
                id              BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                recorded_at     TEXT    NOT NULL,
                actor_id        TEXT    NOT NULL,
                actor_role      TEXT    NOT NULL,
                project_id      TEXT,
                stream_id       TEXT,
                command         TEXT    NOT NULL,
                reason          TEXT    NOT NULL,
                correlation_id  TEXT    NOT NULL
            );
            CREATE TABLE keyring (
                name            TEXT    PRIMARY KEY,
                master_key_id   TEXT    NOT NULL,
                wrapped         BYTEA   NOT NULL
            );
            CREATE TABLE data_keys (
                connection_id   TEXT    PRIMARY KEY,
                data_key_id     TEXT    NOT NULL,
                master_key_id   TEXT    NOT NULL,
                wrapped         BYTEA   NOT NULL
            );
            """),
        ("v2: credential reads and access tokens", """
            CREATE TABLE credential_reads (
                id                  BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                recorded_at         TEXT    NOT NULL,
                actor_id            TEXT    NOT NULL,
                project_id          TEXT    NOT NULL,
                connection_id       TEXT    NOT NULL,
                credential_version  BIGINT  NOT NULL,
                correlation_id      TEXT    NOT NULL,
                via                 TEXT    NOT NULL
            );
            CREATE TABLE access_tokens (
                token_id        TEXT    PRIMARY KEY,
                secret_hash     BYTEA   NOT NULL,
                kind            TEXT    NOT NULL CHECK (kind IN ('member', 'engine')),
                member_id       TEXT,
                project_id      TEXT    NOT NULL,
                created_at      TEXT COLLATE "C" NOT NULL,
                revoked_at      TEXT,
                CHECK ((kind = 'member') = (member_id IS NOT NULL))
            );
            """),
        ("v3: credential lifecycle", SQLDialect.postgres.tableDefinition(LogSchema.lifecycleTables)),
    ]

    /// Applies the migrations this database lacks, in one transaction, holding the writer lock
    /// (servers starting together migrate once). Refuses a database that has migrations this
    /// credlog does not know: it was upgraded by a newer credlog.
    static func migrate(_ database: PostgresDatabase) async throws {
        let known = migrations.map(\.identifier)
        let name = database.location.description
        try await database.write { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS credlog_migrations (
                    identifier TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())
                """)
            let applied = try db.fetchAll(sql: "SELECT identifier FROM credlog_migrations").map { $0[0] as String }
            let unknown = applied.filter { !known.contains($0) }
            guard unknown.isEmpty else { throw StoreError.newerSchema(database: name, unknown: unknown) }
            for (identifier, script) in migrations where !applied.contains(identifier) {
                try db.executeScript(script)
                try db.execute(sql: "INSERT INTO credlog_migrations (identifier) VALUES (?)", arguments: [identifier])
            }
        }
    }

    /// Whether credlog's log is in this database (`credlog init` ran).
    static func isInitialised(_ database: PostgresDatabase) async throws -> Bool {
        try await database.read { db in try db.tableExists("events") && db.tableExists("keyring") }
    }
}
