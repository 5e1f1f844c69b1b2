import Foundation
import GRDB

/// How hard an append waits for the disk.
public enum Durability: String, Sendable, CaseIterable {
    /// `synchronous=FULL`: a commit is on disk when the append returns (the default).
    case full
    /// `synchronous=NORMAL`: survives a crash of credlog, may lose the last commits on power loss.
    case normal
}

/// Opens a credlog SQLite database: WAL mode, the chosen durability, the schema migrated.
public enum CredlogDatabase {
    /// Opens (creating when `create` is true) the database at `path`.
    public static func open(path: String, durability: Durability = .full, create: Bool = false) throws -> DatabasePool {
        if !create && !FileManager.default.fileExists(atPath: path) {
            throw StoreError.notInitialised(path: path)
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(durability == .full ? "FULL" : "NORMAL")")
            // Deleted content (a shredded data key) is overwritten, not left in free pages.
            try db.execute(sql: "PRAGMA secure_delete = ON")
        }
        let pool = try DatabasePool(path: path, configuration: configuration)
        if !create, try pool.read({ try !$0.tableExists("events") }) {
            throw StoreError.notInitialised(path: path)
        }
        try LogSchema.migrator.migrate(pool)
        return pool
    }
}
