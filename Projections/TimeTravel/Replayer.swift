import CredlogEvents
import Foundation
import GRDB

/// Builds a new database holding the log up to a moment, with every projection rebuilt
/// as of then: for reports "as at the end of the month", or to reproduce a past state.
public enum Replayer {
    public struct Result: Sendable, Encodable {
        public var path: String
        public var events: Int64
        public var lastPosition: Int64
    }

    /// Copies the events recorded at or before `until` (a prefix of the log: recorded times never go
    /// backwards), the keys that open them, and the refusals of that period, into a new file at `path`.
    /// The copy verifies with the same master key.
    public static func replay(from source: DatabasePool, until: Timestamp, into path: String) throws -> Result {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw ReplayError.targetExists(path)
        }
        let target = try CredlogDatabase.open(path: path, create: true)
        let cut = until.iso8601
        try target.writeWithoutTransaction { db in
            try db.execute(sql: "ATTACH DATABASE ? AS source", arguments: [source.path])
            defer { try? db.execute(sql: "DETACH DATABASE source") }
            try db.inTransaction {
                try db.execute(sql: "INSERT INTO events SELECT * FROM source.events WHERE recorded_at <= ? ORDER BY position", arguments: [cut])
                try db.execute(sql: "INSERT INTO keyring SELECT * FROM source.keyring")
                try db.execute(sql: """
                    INSERT INTO data_keys SELECT * FROM source.data_keys
                    WHERE 'connection:' || connection_id IN (SELECT stream_id FROM events)
                    """)
                try db.execute(sql: """
                    INSERT INTO refusals (recorded_at, actor_id, actor_role, project_id, stream_id, command, reason, correlation_id)
                    SELECT recorded_at, actor_id, actor_role, project_id, stream_id, command, reason, correlation_id
                    FROM source.refusals WHERE recorded_at <= ? ORDER BY id
                    """, arguments: [cut])
                try db.execute(sql: """
                    INSERT INTO idempotency_keys SELECT * FROM source.idempotency_keys
                    WHERE last_position <= (SELECT COALESCE(MAX(position), 0) FROM events)
                    """)
                return .commit
            }
        }
        let runner = ProjectionRunner(database: target)
        try runner.prepare()
        try runner.catchUp()
        let (count, last) = try target.read { db in
            (try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM events") ?? 0,
             try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(position), 0) FROM events") ?? 0)
        }
        try target.close()
        return Result(path: path, events: count, lastPosition: last)
    }
}

public enum ReplayError: Error, CustomStringConvertible {
    case targetExists(String)
    public var description: String {
        switch self {
        case .targetExists(let path): "\(path) already exists: replay writes a new database"
        }
    }
}
