import GRDB

/// The schema of a credlog database: one list of migrations for both backends, in plain SQL
/// written for SQLite (``SQLDialect/tableDefinition(_:)`` adapts it for PostgreSQL). A migration
/// is never edited once shipped; a change is a new one at the end of the list.
enum LogSchema {
    /// The migrations in order, as `dialect` runs them.
    static func migrations(_ dialect: SQLDialect) -> [(identifier: String, script: String)] {
        [("v1: event log", dialect.tableDefinition(eventLogTables) + appendOnlyTriggers(dialect)),
         ("v2: credential reads and access tokens", dialect.tableDefinition(credentialReadsAndTokens)),
         ("v3: credential lifecycle", dialect.tableDefinition(lifecycleTables)),
         ("v4: keyed tokens, retired data keys, bound OAuth2 states", dialect.tableDefinition(hardening)),
         ("v5: the log indexed for audit queries", auditIndexes),
         ("v6: token scope, expiry, last use and rotation; sessions", dialect.tableDefinition(tokensAndSessions))]
    }

    /// SQLite's migrations, recorded by GRDB.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for (identifier, script) in migrations(.sqlite) {
            migrator.registerMigration(identifier) { db in try db.execute(sql: script) }
        }
        return migrator
    }

    /// No row of the log is ever changed or removed (on PostgreSQL, not even by `TRUNCATE`).
    static func appendOnlyTriggers(_ dialect: SQLDialect) -> String {
        dialect == .postgres ? PostgresSchema.appendOnlyTriggers : sqliteAppendOnlyTriggers
    }

    /// The log's tables (v1), the same on both backends (``SQLDialect/tableDefinition(_:)``
    /// adapts the types for PostgreSQL).
    static let eventLogTables = """
            CREATE TABLE events (
                position        INTEGER PRIMARY KEY CHECK (position > 0),
                stream_id       TEXT    NOT NULL,
                stream_version  INTEGER NOT NULL CHECK (stream_version > 0),
                event_id        TEXT    NOT NULL UNIQUE,
                event_type      TEXT    NOT NULL,
                schema_version  INTEGER NOT NULL,
                recorded_at     TEXT    NOT NULL,
                actor_id        TEXT    NOT NULL,
                actor_role      TEXT    NOT NULL CHECK (actor_role IN ('admin', 'member', 'system', 'engine')),
                project_id      TEXT    NOT NULL,
                correlation_id  TEXT    NOT NULL,
                causation_id    TEXT    NOT NULL,
                payload         TEXT    NOT NULL,
                hash            BLOB    NOT NULL,
                UNIQUE (stream_id, stream_version)
            );
            CREATE INDEX events_by_correlation ON events (correlation_id);
            CREATE INDEX events_by_project ON events (project_id, position);

            CREATE TABLE idempotency_keys (
                key             TEXT    PRIMARY KEY,
                request_digest  TEXT    NOT NULL,
                stream_id       TEXT    NOT NULL,
                first_position  INTEGER NOT NULL,
                last_position   INTEGER NOT NULL,
                stream_version  INTEGER NOT NULL
            );

            CREATE TABLE refusals (
                id              INTEGER PRIMARY KEY,
                recorded_at     TEXT    NOT NULL,
                actor_id        TEXT    NOT NULL,
                actor_role      TEXT    NOT NULL,
                project_id      TEXT,
                stream_id       TEXT,
                command         TEXT    NOT NULL,
                reason          TEXT    NOT NULL,
                correlation_id  TEXT    NOT NULL
            );

            -- Root keys of this database, wrapped by the master key.
            CREATE TABLE keyring (
                name            TEXT    PRIMARY KEY,
                master_key_id   TEXT    NOT NULL,
                wrapped         BLOB    NOT NULL
            );

            -- One data key per connection, wrapped by the master key. Deleting
            -- the row destroys every credential the connection ever had.
            CREATE TABLE data_keys (
                connection_id   TEXT    PRIMARY KEY,
                data_key_id     TEXT    NOT NULL,
                master_key_id   TEXT    NOT NULL,
                wrapped         BLOB    NOT NULL
            );
            """

    /// SQLite's refusal to change or remove a row of the log (PostgreSQL's: ``PostgresSchema``).
    static let sqliteAppendOnlyTriggers = """
            CREATE TRIGGER events_refuse_update BEFORE UPDATE ON events
            BEGIN SELECT RAISE(ABORT, 'credlog events are append-only: UPDATE refused'); END;
            CREATE TRIGGER events_refuse_delete BEFORE DELETE ON events
            BEGIN SELECT RAISE(ABORT, 'credlog events are append-only: DELETE refused'); END;
            """

    /// The audit of credential reads and the API's tokens (v2), the same on both backends.
    static let credentialReadsAndTokens = """
            -- Every time plaintext credentials left credlog (to the engine), for the audit trail.
            CREATE TABLE credential_reads (
                id                  INTEGER PRIMARY KEY,
                recorded_at         TEXT    NOT NULL,
                actor_id            TEXT    NOT NULL,
                project_id          TEXT    NOT NULL,
                connection_id       TEXT    NOT NULL,
                credential_version  INTEGER NOT NULL,
                correlation_id      TEXT    NOT NULL,
                via                 TEXT    NOT NULL
            );

            -- Bearer tokens of the HTTP API. Only a hash of the secret part is kept.
            CREATE TABLE access_tokens (
                token_id        TEXT    PRIMARY KEY,
                secret_hash     BLOB    NOT NULL,
                kind            TEXT    NOT NULL CHECK (kind IN ('member', 'engine')),
                member_id       TEXT,
                project_id      TEXT    NOT NULL,
                created_at      TEXT    NOT NULL,
                revoked_at      TEXT,
                CHECK ((kind = 'member') = (member_id IS NOT NULL))
            );
            """

    /// v4, the same on both backends (``SQLDialect/tableDefinition(_:)`` adapts the types):
    /// - access-token hashes are keyed with a key derived from the master key: rows hashed under
    ///   the former public key can match no presented token, and go (issue them again);
    /// - a connection may have retired data keys beside its live one (a master key rotation
    ///   retires every data key: whatever is sealed afterwards gets a new one);
    /// - an OAuth2 state started from the page is bound to the browser that started it.
    static let hardening = """
            DELETE FROM access_tokens;
            CREATE TABLE data_keys_v4 (
                connection_id   TEXT    NOT NULL,
                data_key_id     TEXT    NOT NULL,
                master_key_id   TEXT    NOT NULL,
                wrapped         BLOB    NOT NULL,
                retired         INTEGER NOT NULL DEFAULT 0 CHECK (retired IN (0, 1)),
                PRIMARY KEY (connection_id, data_key_id)
            );
            INSERT INTO data_keys_v4 (connection_id, data_key_id, master_key_id, wrapped)
                SELECT connection_id, data_key_id, master_key_id, wrapped FROM data_keys;
            DROP TABLE data_keys;
            ALTER TABLE data_keys_v4 RENAME TO data_keys;
            CREATE UNIQUE INDEX data_keys_live ON data_keys (connection_id) WHERE retired = 0;
            ALTER TABLE oauth2_states ADD COLUMN browser_binding BLOB;
            """

    /// The audit trail is the log itself (v5): audit queries read `events` through its indexes by
    /// project, by stream (a connection) and by correlation (v1), and this one by actor.
    static let auditIndexes = "CREATE INDEX events_by_actor ON events (actor_id, position);"

    /// v6, the same on both backends:
    /// - an access token has a scope (`full`, or `read` for reports and dashboards), may expire,
    ///   notes its last use (to the minute), and after a rotation keeps its former secret's hash
    ///   until a grace period ends;
    /// - the page's sessions live here, so that every server behind a load balancer, and a
    ///   restarted one, knows them. Only a keyed hash of a session's cookie value is kept; a
    ///   session ends when idle too long, at its absolute end, at sign-out, or with its token.
    static let tokensAndSessions = """
            ALTER TABLE access_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'full';
            ALTER TABLE access_tokens ADD COLUMN expires_at TEXT;
            ALTER TABLE access_tokens ADD COLUMN last_used_at TEXT;
            ALTER TABLE access_tokens ADD COLUMN previous_secret_hash BLOB;
            ALTER TABLE access_tokens ADD COLUMN previous_valid_until TEXT;
            CREATE TABLE sessions (
                id_hash         BLOB    PRIMARY KEY,
                token_id        TEXT    NOT NULL,
                created_at      TEXT    NOT NULL,
                last_seen_at    TEXT    NOT NULL,
                ends_at         TEXT    NOT NULL,
                flash           TEXT,
                flash_is_error  INTEGER NOT NULL DEFAULT 0
            );
            CREATE INDEX sessions_by_token ON sessions (token_id, created_at);
            CREATE INDEX sessions_by_end ON sessions (ends_at);
            """

    /// The tables of the credential lifecycle (v3), the same on both backends
    /// (``SQLDialect/tableDefinition(_:)`` adapts the types for PostgreSQL).
    static let lifecycleTables = """
            -- OAuth2 authorizations under way: a state is used once, before it expires. Only a
            -- hash of the state is kept; the PKCE verifier lives until the callback uses it.
            CREATE TABLE oauth2_states (
                state_hash      BLOB    PRIMARY KEY,
                project_id      TEXT    NOT NULL,
                member_id       TEXT    NOT NULL,
                piece           TEXT    NOT NULL,
                connection_name TEXT,
                connection_id   TEXT,
                code_verifier   BLOB,
                redirect_uri    TEXT    NOT NULL,
                expires_at      TEXT    NOT NULL,
                CHECK ((connection_name IS NULL) != (connection_id IS NULL))
            );
            -- Who is refreshing a connection's token now, across processes: one at a time.
            CREATE TABLE refresh_leases (
                connection_id   TEXT    PRIMARY KEY,
                holder          TEXT    NOT NULL,
                expires_at      TEXT    NOT NULL
            );
            -- A provider failing to refresh (network, 5xx) since `first_failed_at`: the connection
            -- stays Active until the failures outlast the grace period.
            CREATE TABLE refresh_failures (
                connection_id   TEXT    PRIMARY KEY,
                first_failed_at TEXT    NOT NULL,
                last_failed_at  TEXT    NOT NULL,
                failures        INTEGER NOT NULL,
                last_error      TEXT    NOT NULL
            );
            -- The webhook notifications to send, fed from the log (position in `webhook_feed`).
            CREATE TABLE webhook_feed (position INTEGER NOT NULL);
            INSERT INTO webhook_feed VALUES (0);
            -- What the feed folds from the log: each project's webhooks, each connection's status.
            CREATE TABLE webhook_targets (
                project_id      TEXT    NOT NULL,
                webhook_id      TEXT    NOT NULL,
                url             TEXT    NOT NULL,
                secret_version  INTEGER NOT NULL,
                PRIMARY KEY (project_id, webhook_id)
            );
            CREATE TABLE webhook_connections (
                connection_id   TEXT    PRIMARY KEY,
                name            TEXT    NOT NULL,
                piece           TEXT    NOT NULL,
                status          TEXT    NOT NULL
            );
            CREATE TABLE webhook_outbox (
                delivery_id     TEXT    PRIMARY KEY,
                project_id      TEXT    NOT NULL,
                webhook_id      TEXT    NOT NULL,
                url             TEXT    NOT NULL,
                secret_version  INTEGER NOT NULL,
                event_position  INTEGER NOT NULL,
                body            TEXT    NOT NULL,
                attempts        INTEGER NOT NULL DEFAULT 0,
                next_attempt_at TEXT    NOT NULL,
                lease_until     TEXT,
                delivered_at    TEXT,
                gave_up_at      TEXT,
                last_error      TEXT
            );
            CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at)
                WHERE delivered_at IS NULL AND gave_up_at IS NULL;
            """
}
