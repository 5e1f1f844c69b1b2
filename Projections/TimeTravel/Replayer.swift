import CredlogEvents
import Foundation

/// Builds a new database holding the log up to a moment, with every projection rebuilt
/// as of then: for reports "as at the end of the month", or to reproduce a past state.
public enum Replayer {
    public struct Result: Sendable, Encodable {
        public var path: String
        public var events: Int64
        public var lastPosition: Int64
    }

    /// Copies the events recorded at or before `until` (a prefix of the log: recorded times never go
    /// backwards), the keys that open them, and the refusals of that period, into a new SQLite
    /// file at `path` (from either backend). The copy verifies with the same master key.
    public static func replay(from source: any SQLDatabase, until: Timestamp, into path: String) async throws -> Result {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw ReplayError.targetExists(path)
        }
        let pool = try CredlogDatabase.open(path: path, create: true)
        let target = SQLiteDatabase(pool)
        let copied = try await LogCopy.copy(from: source, to: target, targetName: path, scope: .until(until))
        let runner = ProjectionRunner(database: target)
        try await runner.prepare()
        try await runner.catchUp()
        try pool.close()
        return Result(path: path, events: copied.events, lastPosition: copied.lastPosition)
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
