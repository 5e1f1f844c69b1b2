/*
 * The raw SQLite limit for credlog's benchmark: the same inserts and scans straight
 * through the SQLite C API, with the same durability settings (WAL, synchronous=FULL).
 * Built and run by scripts/bench; prints one JSON object per run.
 *
 *   raw_sqlite append DB COUNT              one row per transaction into credlog's events schema
 *   raw_sqlite rebuild DB                   scan every event, insert one read-model row each (2000 per transaction)
 *   raw_sqlite rebuild-floor DB NEWDB       SQLite's own cost of credlog's rebuilt read models: their rows copied
 *                                           from DB by INSERT ... SELECT into NEWDB, then their indexes built
 *   raw_sqlite verify DB CHAINKEYHEX        scan every event, recompute credlog's keyed BLAKE2b chain
 *   raw_sqlite timetravel DB SAMPLES SEED   one stream's events up to a random time (p50/p99)
 *   raw_sqlite list DB PROJECT SAMPLES SEED status filter + trigram name search, page of 50 (p50/p99)
 */
#include <sodium.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void check(int rc, sqlite3 *db, const char *what) {
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "raw_sqlite: %s: %s\n", what, sqlite3_errmsg(db));
        exit(1);
    }
}

static sqlite3 *open_db(const char *path) {
    sqlite3 *db;
    check(sqlite3_open(path, &db), db, "open");
    check(sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=30000;", 0, 0, 0), db, "pragmas");
    return db;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void print_latencies(const char *workload, double *samples, int count, long found) {
    qsort(samples, count, sizeof(double), compare_doubles);
    printf("{\"workload\":\"%s\",\"samples\":%d,\"p50_ms\":%.4f,\"p99_ms\":%.4f,\"found\":%ld}\n", workload, count,
           samples[count / 2] * 1000, samples[(int)(count * 0.99)] * 1000, found);
}

/* Same table, indexes and triggers as credlog's log. */
static const char *schema =
    "CREATE TABLE events (position INTEGER PRIMARY KEY CHECK (position > 0), stream_id TEXT NOT NULL,"
    " stream_version INTEGER NOT NULL CHECK (stream_version > 0), event_id TEXT NOT NULL UNIQUE, event_type TEXT NOT NULL,"
    " schema_version INTEGER NOT NULL, recorded_at TEXT NOT NULL, actor_id TEXT NOT NULL, actor_role TEXT NOT NULL,"
    " project_id TEXT NOT NULL, correlation_id TEXT NOT NULL, causation_id TEXT NOT NULL, payload TEXT NOT NULL,"
    " hash BLOB NOT NULL, UNIQUE (stream_id, stream_version));"
    "CREATE INDEX events_by_correlation ON events (correlation_id);"
    "CREATE INDEX events_by_project ON events (project_id, position);"
    "CREATE TRIGGER events_refuse_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'append-only'); END;"
    "CREATE TRIGGER events_refuse_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'append-only'); END;";

static int append(const char *path, long count) {
    sqlite3 *db = open_db(path);
    check(sqlite3_exec(db, schema, 0, 0, 0), db, "schema");
    sqlite3_stmt *insert, *begin, *commit;
    check(sqlite3_prepare_v2(db, "INSERT INTO events VALUES (?, ?, ?, ?, 'connection.attached-to-flow', 1,"
                                 " '2026-11-02T09:10:00.000000Z', 'bob', 'member', 'acme', 'corr', 'cause', ?, ?)", -1, &insert, 0), db, "prepare");
    check(sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, 0), db, "prepare begin");
    check(sqlite3_prepare_v2(db, "COMMIT", -1, &commit, 0), db, "prepare commit");
    unsigned char hash[32] = {0};
    char stream[64], event_id[64], payload[64];
    double start = now();
    for (long i = 1; i <= count; i++) {
        snprintf(stream, sizeof stream, "connection:conn_%ld", (i - 1) / 7);
        snprintf(event_id, sizeof event_id, "%08lx-0000-4000-8000-%012lx", i, i);
        snprintf(payload, sizeof payload, "{\"flowId\":\"flow-%ld\"}", i);
        check(sqlite3_step(begin), db, "begin");
        sqlite3_reset(begin);
        sqlite3_bind_int64(insert, 1, i);
        sqlite3_bind_text(insert, 2, stream, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(insert, 3, (i - 1) % 7 + 1);
        sqlite3_bind_text(insert, 4, event_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(insert, 5, payload, -1, SQLITE_TRANSIENT);
        sqlite3_bind_blob(insert, 6, hash, 32, SQLITE_STATIC);
        check(sqlite3_step(insert), db, "insert");
        sqlite3_reset(insert);
        check(sqlite3_step(commit), db, "commit");
        sqlite3_reset(commit);
    }
    double seconds = now() - start;
    printf("{\"workload\":\"append\",\"rows\":%ld,\"seconds\":%.6f}\n", count, seconds);
    sqlite3_close(db);
    return 0;
}

static int rebuild(const char *path) {
    sqlite3 *db = open_db(path);
    check(sqlite3_exec(db, "DROP TABLE IF EXISTS raw_read_model;"
                           "CREATE TABLE raw_read_model (position INTEGER PRIMARY KEY, stream_id TEXT, event_type TEXT, payload TEXT);",
                       0, 0, 0), db, "schema");
    sqlite3_stmt *scan, *insert;
    check(sqlite3_prepare_v2(db, "SELECT position, stream_id, event_type, payload FROM events ORDER BY position", -1, &scan, 0), db, "scan");
    check(sqlite3_prepare_v2(db, "INSERT INTO raw_read_model VALUES (?, ?, ?, ?)", -1, &insert, 0), db, "insert");
    double start = now();
    long rows = 0;
    check(sqlite3_exec(db, "BEGIN", 0, 0, 0), db, "begin");
    while (sqlite3_step(scan) == SQLITE_ROW) {
        sqlite3_bind_int64(insert, 1, sqlite3_column_int64(scan, 0));
        sqlite3_bind_text(insert, 2, (const char *)sqlite3_column_text(scan, 1), -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(insert, 3, (const char *)sqlite3_column_text(scan, 2), -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(insert, 4, (const char *)sqlite3_column_text(scan, 3), -1, SQLITE_TRANSIENT);
        check(sqlite3_step(insert), db, "insert");
        sqlite3_reset(insert);
        if (++rows % 2000 == 0) {
            check(sqlite3_exec(db, "COMMIT; BEGIN", 0, 0, 0), db, "commit");
        }
    }
    check(sqlite3_exec(db, "COMMIT", 0, 0, 0), db, "commit");
    double seconds = now() - start;
    check(sqlite3_exec(db, "DROP TABLE raw_read_model", 0, 0, 0), db, "drop");
    printf("{\"workload\":\"rebuild\",\"rows\":%ld,\"seconds\":%.6f}\n", rows, seconds);
    sqlite3_close(db);
    return 0;
}

static void field(crypto_generichash_state *state, const void *bytes, uint64_t length) {
    unsigned char big[8];
    for (int i = 0; i < 8; i++) big[i] = (unsigned char)(length >> (56 - 8 * i));
    crypto_generichash_update(state, big, 8);
    crypto_generichash_update(state, bytes, length);
}

static void integer_field(crypto_generichash_state *state, int64_t value) {
    unsigned char big[8];
    for (int i = 0; i < 8; i++) big[i] = (unsigned char)((uint64_t)value >> (56 - 8 * i));
    field(state, big, 8);
}

static int verify(const char *path, const char *key_hex) {
    unsigned char key[32];
    size_t key_length;
    if (sodium_init() < 0 || sodium_hex2bin(key, 32, key_hex, strlen(key_hex), 0, &key_length, 0) != 0 || key_length != 32) {
        fprintf(stderr, "raw_sqlite: bad key\n");
        return 1;
    }
    sqlite3 *db = open_db(path);
    sqlite3_stmt *scan;
    check(sqlite3_prepare_v2(db, "SELECT position, stream_id, stream_version, event_id, event_type, schema_version, recorded_at,"
                                 " actor_id, actor_role, project_id, correlation_id, causation_id, payload, hash FROM events ORDER BY position",
                             -1, &scan, 0), db, "scan");
    unsigned char previous[32] = {0};
    long rows = 0, bad = 0;
    double start = now();
    while (sqlite3_step(scan) == SQLITE_ROW) {
        crypto_generichash_state state;
        crypto_generichash_init(&state, key, 32, 32);
        crypto_generichash_update(&state, previous, 32);
        integer_field(&state, sqlite3_column_int64(scan, 0));
        field(&state, sqlite3_column_text(scan, 1), sqlite3_column_bytes(scan, 1));
        integer_field(&state, sqlite3_column_int64(scan, 2));
        for (int column = 3; column <= 4; column++) field(&state, sqlite3_column_text(scan, column), sqlite3_column_bytes(scan, column));
        integer_field(&state, sqlite3_column_int64(scan, 5));
        for (int column = 6; column <= 12; column++) field(&state, sqlite3_column_text(scan, column), sqlite3_column_bytes(scan, column));
        unsigned char computed[32];
        crypto_generichash_final(&state, computed, 32);
        if (sqlite3_column_bytes(scan, 13) != 32 || sodium_memcmp(computed, sqlite3_column_blob(scan, 13), 32) != 0) bad++;
        memcpy(previous, computed, 32);
        rows++;
    }
    double seconds = now() - start;
    char head[65];
    sodium_bin2hex(head, sizeof head, previous, 32);
    printf("{\"workload\":\"verify\",\"rows\":%ld,\"seconds\":%.6f,\"bad\":%ld,\"head\":\"%s\"}\n", rows, seconds, bad, head);
    sqlite3_close(db);
    return 0;
}

static int timetravel(const char *path, int samples, unsigned seed) {
    sqlite3 *db = open_db(path);
    srand(seed);
    sqlite3_stmt *bounds, *query;
    check(sqlite3_prepare_v2(db, "SELECT MAX(position), MIN(recorded_at), MAX(recorded_at) FROM events", -1, &bounds, 0), db, "bounds");
    sqlite3_step(bounds);
    long head = sqlite3_column_int64(bounds, 0);
    check(sqlite3_prepare_v2(db, "SELECT stream_version, event_type, payload FROM events WHERE stream_id = ? AND recorded_at <= ?"
                                 " ORDER BY stream_version", -1, &query, 0), db, "query");
    sqlite3_stmt *pick;
    check(sqlite3_prepare_v2(db, "SELECT stream_id, recorded_at FROM events WHERE position = ?", -1, &pick, 0), db, "pick");
    double *latencies = malloc(sizeof(double) * samples);
    long found = 0;
    for (int i = 0; i < samples; i++) {
        sqlite3_bind_int64(pick, 1, 1 + rand() % head);
        sqlite3_step(pick);
        char stream[128], time[64];
        snprintf(stream, sizeof stream, "%s", sqlite3_column_text(pick, 0));
        snprintf(time, sizeof time, "%s", sqlite3_column_text(pick, 1));
        sqlite3_reset(pick);
        double start = now();
        sqlite3_bind_text(query, 1, stream, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(query, 2, time, -1, SQLITE_TRANSIENT);
        while (sqlite3_step(query) == SQLITE_ROW) found++;
        sqlite3_reset(query);
        latencies[i] = now() - start;
    }
    print_latencies("timetravel", latencies, samples, found);
    sqlite3_close(db);
    return 0;
}

/* The best plan SQLite itself offers (credlog's until 2026-12, when its name index moved into the
   querying process's memory): a trigram table whose key carries the name order, built here as a
   TEMP table before the clock starts (credlog's file is not changed). The term's rarest trigram
   (counts capped at 1000), then that trigram's names in name-prefix order, joined to the table
   and sorted by the whole name only among names sharing a prefix. The bench's terms are ASCII,
   so a trigram is three bytes here. */
static int list(const char *path, const char *project, int samples, unsigned seed) {
    static const char *terms[] = {"gma", "hub", "sla", "sup", "sal", "ops", "eu ", "api", "prod", "team", "finance 777", "xyz"};
    sqlite3 *db = open_db(path);
    srand(seed);
    check(sqlite3_exec(db,
        "CREATE TEMP TABLE connection_name_trigrams (project_id TEXT NOT NULL, trigram TEXT NOT NULL,"
        " name_prefix TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (project_id, trigram, name_prefix, id)) WITHOUT ROWID;"
        "WITH RECURSIVE offsets(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM offsets"
        "  WHERE i < (SELECT COALESCE(MAX(length(name_key)), 0) - 2 FROM connections))"
        " INSERT INTO temp.connection_name_trigrams (project_id, trigram, name_prefix, id)"
        " SELECT c.project_id, substr(c.name_key, offsets.i, 3), substr(c.name_key, 1, 16), c.id"
        " FROM connections AS c JOIN offsets ON offsets.i <= length(c.name_key) - 2"
        " WHERE true ORDER BY 1, 2, 3, 4 ON CONFLICT DO NOTHING;", 0, 0, 0), db, "trigram table");
    sqlite3_stmt *count, *query;
    check(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM (SELECT 1 FROM connection_name_trigrams"
                                 " WHERE project_id = ? AND trigram = ? LIMIT 1000)", -1, &count, 0), db, "count");
    check(sqlite3_prepare_v2(db, "SELECT c.id, c.project_id, c.piece, c.auth_type, c.name, c.name_key, c.status, c.status_reason,"
                                 " c.flow_count, c.connected_at, c.status_changed_at, c.credential_expires_at,"
                                 " c.credential_fingerprint, c.last_position"
                                 " FROM connection_name_trigrams AS k CROSS JOIN connections AS c ON c.id = k.id"
                                 " WHERE k.project_id = ? AND k.trigram = ? AND c.status = 'active' AND instr(c.name_key, ?) > 0"
                                 " ORDER BY k.name_prefix, c.name_key, c.id LIMIT 51", -1, &query, 0), db, "query");
    double *latencies = malloc(sizeof(double) * samples);
    long found = 0;
    for (int i = 0; i < samples; i++) {
        const char *term = terms[i % 12];
        double start = now();
        char best[4] = {0};
        int best_count = -1;
        size_t length = strlen(term);
        for (size_t at = 0; at + 3 <= length; at++) {
            char trigram[4] = {term[at], term[at + 1], term[at + 2], 0};
            sqlite3_bind_text(count, 1, project, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(count, 2, trigram, -1, SQLITE_TRANSIENT);
            int names = sqlite3_step(count) == SQLITE_ROW ? sqlite3_column_int(count, 0) : 0;
            sqlite3_reset(count);
            if (best_count < 0 || names < best_count) { best_count = names; memcpy(best, trigram, 4); }
            if (names == 0) break;
        }
        if (best_count > 0) {
            sqlite3_bind_text(query, 1, project, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(query, 2, best, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(query, 3, term, -1, SQLITE_TRANSIENT);
            while (sqlite3_step(query) == SQLITE_ROW) found++;
            sqlite3_reset(query);
        }
        latencies[i] = now() - start;
    }
    print_latencies("list", latencies, samples, found);
    sqlite3_close(db);
    return 0;
}

/* The least a rebuild of credlog's read models can cost on this SQLite: the rows credlog rebuilt in
 * SOURCE (connections, flow_usage, status_history) copied by INSERT ... SELECT into tables of the same
 * definition in TARGET (a new file), in one transaction, then every index of those tables built. No
 * event is read, decoded or folded, and no row crosses the C API: only the writing that any rebuild
 * producing these tables must do. Prints the log's event count, so that a rate compares with row 3. */
static const char *floor_tables = "('connections', 'flow_usage', 'status_history')";

static int rebuild_floor(const char *source, const char *target) {
    sqlite3 *db = open_db(target);
    char sql[512];
    sqlite3_stmt *attach;
    check(sqlite3_prepare_v2(db, "ATTACH ? AS src", -1, &attach, 0), db, "attach");
    sqlite3_bind_text(attach, 1, source, -1, SQLITE_TRANSIENT);
    check(sqlite3_step(attach), db, "attach");
    sqlite3_finalize(attach);
    sqlite3_stmt *definitions;
    snprintf(sql, sizeof sql, "SELECT type, name, sql FROM src.sqlite_master WHERE tbl_name IN %s AND sql IS NOT NULL"
             " ORDER BY type = 'index', name", floor_tables);
    check(sqlite3_prepare_v2(db, sql, -1, &definitions, 0), db, "definitions");
    char *indexes[64];
    char *tables[8];
    int index_count = 0, table_count = 0;
    while (sqlite3_step(definitions) == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(definitions, 0);
        const char *name = (const char *)sqlite3_column_text(definitions, 1);
        const char *definition = (const char *)sqlite3_column_text(definitions, 2);
        if (strcmp(type, "table") == 0 && table_count < 8) {
            check(sqlite3_exec(db, definition, 0, 0, 0), db, "create table");
            tables[table_count++] = strdup(name);
        } else if (strcmp(type, "index") == 0 && index_count < 64) {
            indexes[index_count++] = strdup(definition);
        }
    }
    sqlite3_finalize(definitions);
    if (table_count != 3) {
        fprintf(stderr, "raw_sqlite: %s has %d of credlog's 3 read-model tables: rebuild them first\n", source, table_count);
        return 1;
    }
    sqlite3_stmt *count;
    check(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM src.events", -1, &count, 0), db, "count");
    check(sqlite3_step(count), db, "count");
    long events = sqlite3_column_int64(count, 0);
    sqlite3_finalize(count);
    double start = now();
    long rows = 0;
    check(sqlite3_exec(db, "BEGIN", 0, 0, 0), db, "begin");
    for (int i = 0; i < table_count; i++) {
        snprintf(sql, sizeof sql, "INSERT INTO main.%s SELECT * FROM src.%s ORDER BY rowid", tables[i], tables[i]);
        check(sqlite3_exec(db, sql, 0, 0, 0), db, "copy rows");
        rows += sqlite3_changes(db);
    }
    for (int i = 0; i < index_count; i++) check(sqlite3_exec(db, indexes[i], 0, 0, 0), db, "create index");
    check(sqlite3_exec(db, "COMMIT", 0, 0, 0), db, "commit");
    double seconds = now() - start;
    printf("{\"workload\":\"rebuild-floor\",\"events\":%ld,\"rows\":%ld,\"indexes\":%d,\"seconds\":%.6f}\n",
           events, rows, index_count, seconds);
    for (int i = 0; i < table_count; i++) free(tables[i]);
    for (int i = 0; i < index_count; i++) free(indexes[i]);
    sqlite3_close(db);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 4 && strcmp(argv[1], "append") == 0) return append(argv[2], atol(argv[3]));
    if (argc >= 3 && strcmp(argv[1], "rebuild") == 0) return rebuild(argv[2]);
    if (argc >= 4 && strcmp(argv[1], "rebuild-floor") == 0) return rebuild_floor(argv[2], argv[3]);
    if (argc >= 4 && strcmp(argv[1], "verify") == 0) return verify(argv[2], argv[3]);
    if (argc >= 5 && strcmp(argv[1], "timetravel") == 0) return timetravel(argv[2], atoi(argv[3]), (unsigned)atoi(argv[4]));
    if (argc >= 6 && strcmp(argv[1], "list") == 0) return list(argv[2], argv[3], atoi(argv[4]), (unsigned)atoi(argv[5]));
    fprintf(stderr, "usage: raw_sqlite append|rebuild|verify|timetravel|list ...\n");
    return 64;
}
