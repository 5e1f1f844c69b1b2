import GRDB

/// The SQLite schema of a credlog database. Migrations use plain SQL and are never
/// edited once shipped; a change is a new migration.
enum LogSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: event log") { db in
            try db.execute(sql: """
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
                CREATE TRIGGER events_refuse_update BEFORE UPDATE ON events
                BEGIN SELECT RAISE(ABORT, 'credlog events are append-only: UPDATE refused'); END;
                CREATE TRIGGER events_refuse_delete BEFORE DELETE ON events
                BEGIN SELECT RAISE(ABORT, 'credlog events are append-only: DELETE refused'); END;

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
                """)
        }
        migrator.registerMigration("v2: credential reads and access tokens") { db in
            try db.execute(sql: """
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
                """)
        }
        return migrator
    }
}
