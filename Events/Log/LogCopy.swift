/// Copies a credlog log from one database into a new, empty one — SQLite or PostgreSQL on
/// either side: the events as they are (positions, hashes: the copy verifies with the same
/// master key), the keys that open them, and the records kept beside them. Read models are
/// not copied: the target rebuilds them from its events.
public enum LogCopy {
    /// What to copy.
    public enum Scope: Sendable {
        /// The log up to a moment (a prefix: recorded times never go backwards), the keys of its
        /// connections and the refusals of that period (time travel, reports "as at").
        case until(Timestamp)
        /// Everything durable (`credlog migrate`): also the credential reads, the API's access
        /// tokens, token-refresh failures and the webhook feed and outbox (so no notification is
        /// sent twice). OAuth2 consents under way and refresh leases (minutes long) stay behind.
        case everything
    }

    /// What was copied.
    public struct Summary: Sendable, Equatable {
        public var events: Int64
        public var lastPosition: Int64
        /// Rows copied per table, events included.
        public var rows: [String: Int]
    }

    /// Refused: the target already holds a log.
    public struct TargetNotEmpty: Error, CustomStringConvertible {
        public let target: String
        public var description: String { "\(target) already holds a credlog log: migrate into a new, empty database" }
    }

    /// Copies `scope` of the log in `source` into `target` (migrated, empty). Each table is read
    /// in batches and written in one transaction per batch.
    public static func copy(from source: any SQLDatabase, to target: any SQLDatabase, targetName: String,
                            scope: Scope) async throws -> Summary {
        let occupied: Int = try await target.read { db in
            try db.fetchValue(sql: "SELECT (SELECT COUNT(*) FROM events) + (SELECT COUNT(*) FROM keyring)") ?? 0
        }
        guard occupied == 0 else { throw TargetNotEmpty(target: targetName) }
        var rows: [String: Int] = [:]
        for table in tables(scope) {
            rows[table.name] = try await copy(table, from: source, to: target)
        }
        let (count, last): (Int64, Int64) = try await target.read { db in
            (try db.fetchValue(sql: "SELECT COUNT(*) FROM events") ?? 0,
             try db.fetchValue(sql: "SELECT COALESCE(MAX(position), 0) FROM events") ?? 0)
        }
        return Summary(events: count, lastPosition: last, rows: rows)
    }

    /// One table to copy: its columns, the rows wanted, and a unique column to read it in order by.
    struct Table {
        var name: String
        var columns: [String]
        var key: String
        var filter = ""
        var arguments: SQLArguments = []
        /// The target's migration already wrote its one row: update it instead.
        var replacesSingleRow = false
    }

    static func tables(_ scope: Scope) -> [Table] {
        let eventColumns = RecordedEvent.columns.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        var events = Table(name: "events", columns: eventColumns, key: "position")
        var refusals = Table(name: "refusals", columns: ["id", "recorded_at", "actor_id", "actor_role", "project_id", "stream_id",
                                                         "command", "reason", "correlation_id"], key: "id")
        var dataKeys = Table(name: "data_keys", columns: ["connection_id", "data_key_id", "master_key_id", "wrapped", "retired"],
                             key: "connection_id || ' ' || data_key_id")
        var idempotency = Table(name: "idempotency_keys", columns: ["key", "request_digest", "stream_id", "first_position",
                                                                    "last_position", "stream_version"], key: "key")
        let keyring = Table(name: "keyring", columns: ["name", "master_key_id", "wrapped"], key: "name")
        guard case .until(let moment) = scope else {
            return [events, keyring, dataKeys, idempotency, refusals,
                    Table(name: "credential_reads", columns: ["id", "recorded_at", "actor_id", "project_id", "connection_id",
                                                              "credential_version", "correlation_id", "via"], key: "id"),
                    Table(name: "access_tokens", columns: ["token_id", "secret_hash", "kind", "member_id", "project_id",
                                                           "created_at", "revoked_at", "scope", "expires_at", "last_used_at",
                                                           "previous_secret_hash", "previous_valid_until"], key: "token_id"),
                    Table(name: "refresh_failures", columns: ["connection_id", "first_failed_at", "last_failed_at", "failures",
                                                              "last_error"], key: "connection_id"),
                    Table(name: "webhook_feed", columns: ["position"], key: "position", replacesSingleRow: true),
                    Table(name: "webhook_targets", columns: ["project_id", "webhook_id", "url", "secret_version"],
                          key: "project_id || ' ' || webhook_id"),
                    Table(name: "webhook_connections", columns: ["connection_id", "name", "piece", "status"], key: "connection_id"),
                    Table(name: "webhook_outbox", columns: ["delivery_id", "project_id", "webhook_id", "url", "secret_version",
                                                            "event_position", "body", "attempts", "next_attempt_at", "lease_until",
                                                            "delivered_at", "gave_up_at", "last_error"], key: "delivery_id")]
        }
        let cut = moment.iso8601
        events.filter = "recorded_at <= ?"
        events.arguments = [cut]
        dataKeys.filter = "'connection:' || connection_id IN (SELECT stream_id FROM events WHERE recorded_at <= ?)"
        dataKeys.arguments = [cut]
        idempotency.filter = "last_position <= (SELECT COALESCE(MAX(position), 0) FROM events WHERE recorded_at <= ?)"
        idempotency.arguments = [cut]
        refusals.filter = "recorded_at <= ?"
        refusals.arguments = [cut]
        return [events, keyring, dataKeys, idempotency, refusals]
    }

    /// Copies one table, `batch` rows per read and per write transaction; the next batch is read
    /// while this one is written. Returns the rows copied.
    static func copy(_ table: Table, from source: any SQLDatabase, to target: any SQLDatabase, batch: Int = 5_000) async throws -> Int {
        let columns = table.columns.joined(separator: ", ")
        @Sendable func read(after: SQLValue?) async throws -> [SQLRow] {
            var clauses = table.filter.isEmpty ? [] : ["(\(table.filter))"]
            var arguments = table.arguments
            if let after {
                clauses.append("\(table.key) > ?")
                arguments.append(after)
            }
            arguments.append(batch)
            let condition = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
            return try await source.read { [arguments] db in
                try db.fetchAll(sql: """
                    SELECT \(columns), \(table.key) AS copy_key FROM \(table.name) \(condition) ORDER BY \(table.key) LIMIT ?
                    """, arguments: arguments)
            }
        }
        var next = Task { try await read(after: nil) }
        defer { next.cancel() }
        var copied = 0
        while true {
            let rows = try await next.value
            guard let last = rows.last else {
                if copied > 0, table.key == "id", target.dialect == .postgres {
                    // The copied ids were given, not drawn: the identity goes on after the largest.
                    try await target.write { db in
                        _ = try db.fetchAll(sql: "SELECT setval(pg_get_serial_sequence('\(table.name)', 'id'), (SELECT MAX(id) FROM \(table.name)))")
                    }
                }
                return copied
            }
            let after = last.values.last
            next = Task { try await read(after: after) }
            try await target.write { db in
                if table.replacesSingleRow {
                    try db.execute(sql: "DELETE FROM \(table.name)")
                }
                let width = table.columns.count
                try db.insert(into: table.name, columns: table.columns, rows: rows.map { Array($0.values.prefix(width)) })
            }
            copied += rows.count
        }
    }
}
