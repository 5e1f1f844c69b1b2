import CredlogEvents

/// One refresher per connection across every process on the database: a lease row with an
/// expiry, so a process that dies holding it blocks the others only until then.
struct RefreshLease: Sendable {
    let database: any SQLDatabase
    /// This process's name in the lease table.
    let holder: String

    /// Takes the connection's lease if it is free or expired.
    func acquire(_ connectionId: String, now: Timestamp, for duration: Duration) async throws -> Bool {
        let until = (now + duration).iso8601
        return try await database.write { db in
            try db.changes(sql: """
                INSERT INTO refresh_leases (connection_id, holder, expires_at) VALUES (?, ?, ?)
                ON CONFLICT (connection_id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
                WHERE refresh_leases.expires_at < ?
                """, arguments: [connectionId, holder, until, now.iso8601]) == 1
        }
    }

    func release(_ connectionId: String) async throws {
        try await database.write { db in
            try db.execute(sql: "DELETE FROM refresh_leases WHERE connection_id = ? AND holder = ?", arguments: [connectionId, holder])
        }
    }
}

/// A provider failing to refresh a connection: since when, and what it said last.
struct RefreshFailures: Sendable {
    let database: any SQLDatabase

    /// Records one more failure; returns when the failures began.
    func record(_ connectionId: String, now: Timestamp, error: String) async throws -> Timestamp {
        try await database.write { db in
            try db.execute(sql: """
                INSERT INTO refresh_failures (connection_id, first_failed_at, last_failed_at, failures, last_error) VALUES (?, ?, ?, 1, ?)
                ON CONFLICT (connection_id) DO UPDATE SET last_failed_at = excluded.last_failed_at, failures = refresh_failures.failures + 1,
                    last_error = excluded.last_error
                """, arguments: [connectionId, now.iso8601, now.iso8601, error])
            let first: String? = try db.fetchValue(sql: "SELECT first_failed_at FROM refresh_failures WHERE connection_id = ?",
                                             arguments: [connectionId])
            return first.flatMap(Timestamp.init(iso8601:)) ?? now
        }
    }

    /// The failures, if the last one is less than `quiet` before `now`.
    func recent(_ connectionId: String, now: Timestamp, quiet: Duration) async throws -> (since: String, error: String)? {
        try await database.read { db in
            guard let row = try db.fetchOne(sql: "SELECT first_failed_at, last_failed_at, last_error FROM refresh_failures WHERE connection_id = ?",
                                             arguments: [connectionId]),
                  let last = Timestamp(iso8601: try row["last_failed_at"]),
                  now < last + quiet else { return nil }
            return (try row["first_failed_at"], try row["last_error"])
        }
    }

    func clear(_ connectionId: String) async throws {
        try await database.write { db in
            try db.execute(sql: "DELETE FROM refresh_failures WHERE connection_id = ?", arguments: [connectionId])
        }
    }
}

/// In this process, one refresh per connection at a time: later callers wait for the same result.
actor RefreshFlights {
    private var running: [String: Task<RefreshResult, any Error>] = [:]

    func run(_ connectionId: String, _ work: @escaping @Sendable () async throws -> RefreshResult) async throws -> RefreshResult {
        if let flight = running[connectionId] { return try await flight.value }
        let flight = Task { try await work() }
        running[connectionId] = flight
        defer { running[connectionId] = nil }
        return try await flight.value
    }
}
