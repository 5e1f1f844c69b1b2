import CredlogEvents
import Foundation

/// Where each projection stands, and the work of bringing it up to the head of the log.
public struct ProjectionRunner: Sendable {
    public let database: any SQLDatabase
    public let projections: [any Projection]
    /// Events read and applied per transaction while catching up.
    public var batchSize: Int

    public init(database: any SQLDatabase, projections: [any Projection] = BuiltInProjections.all, batchSize: Int = 8_192) {
        self.database = database
        self.projections = projections
        self.batchSize = batchSize
    }

    /// A projection's checkpoint: the position of the last event it applied.
    public struct Status: Sendable, Equatable, Encodable {
        public var name: String
        public var version: Int
        public var checkpoint: Int64
        public var head: Int64
        public var lag: Int64 { head - checkpoint }

        enum CodingKeys: String, CodingKey { case name, version, checkpoint, head, lag }
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(version, forKey: .version)
            try container.encode(checkpoint, forKey: .checkpoint)
            try container.encode(head, forKey: .head)
            try container.encode(lag, forKey: .lag)
        }
    }

    /// Progress of a catch-up or rebuild, reported after each batch.
    public struct Progress: Sendable {
        public var applied: Int64
        public var total: Int64
        public var elapsed: Duration
    }

    /// Creates missing projections, resets those whose version changed (they are then
    /// behind, and ``catchUp(progress:)`` rebuilds them) and drops retired ones
    /// (``BuiltInProjections/retired``). Returns the names reset.
    @discardableResult
    public func prepare() async throws -> [String] {
        // Usually nothing changed: check with a read, so that opening takes no write lock.
        let projections = projections
        let current = try await database.read { db -> Bool in
            guard try db.tableExists("projection_checkpoints") else { return false }
            let stored = try db.fetchAll(sql: "SELECT name, version FROM projection_checkpoints")
            let versions = Dictionary(try stored.map { (try $0[0] as String, try $0[1] as Int) }) { first, _ in first }
            return try projections.allSatisfy { versions[$0.name] == $0.version }
                && versions.keys.allSatisfy { !BuiltInProjections.retired.projections.contains($0) }
                && BuiltInProjections.retired.tables.allSatisfy { try !db.tableExists($0) }
        }
        if current { return [] }
        return try await database.write { db in
            try db.execute(sql: db.dialect.tableDefinition("""
                CREATE TABLE IF NOT EXISTS projection_checkpoints (
                    name TEXT PRIMARY KEY, version INTEGER NOT NULL, position INTEGER NOT NULL)
                """))
            try Self.dropRetired(db)
            var resetNames: [String] = []
            for projection in projections {
                let stored: Int? = try db.fetchValue(sql: "SELECT version FROM projection_checkpoints WHERE name = ?",
                                                     arguments: [projection.name])
                guard stored != projection.version else { continue }
                try Self.reset(projection, db)
                if stored != nil { resetNames.append(projection.name) }
            }
            return resetNames
        }
    }

    /// Drops the tables, checkpoints and waiting indexes of read models credlog no longer keeps.
    static func dropRetired(_ db: any SQLSession) throws {
        for table in BuiltInProjections.retired.tables { try db.execute(sql: "DROP TABLE IF EXISTS \(table)") }
        for name in BuiltInProjections.retired.projections {
            try db.execute(sql: "DELETE FROM projection_checkpoints WHERE name = ?", arguments: [name])
            if try db.tableExists("projection_pending_indexes") {
                try db.execute(sql: "DELETE FROM projection_pending_indexes WHERE projection = ?", arguments: [name])
            }
        }
    }

    /// Empties one projection (tables recreated, checkpoint 0). On a non-empty log its query
    /// indexes wait in `projection_pending_indexes` (committed with the reset, so a crash
    /// cannot lose them) until ``buildPendingIndexes()`` builds them at the head.
    static func reset(_ projection: any Projection, _ db: any SQLSession) throws {
        try projection.dropTables(db)
        try projection.createTables(db)
        try db.execute(sql: db.dialect.tableDefinition("""
            CREATE TABLE IF NOT EXISTS projection_pending_indexes (
                projection TEXT NOT NULL, statement TEXT NOT NULL, PRIMARY KEY (projection, statement))
            """))
        try db.execute(sql: "DELETE FROM projection_pending_indexes WHERE projection = ?", arguments: [projection.name])
        let logIsEmpty = try db.fetchAll(sql: "SELECT 1 FROM events LIMIT 1").isEmpty
        for statement in projection.queryIndexes {
            if logIsEmpty {
                try db.execute(sql: statement)
            } else {
                try db.execute(sql: "INSERT INTO projection_pending_indexes (projection, statement) VALUES (?, ?)",
                               arguments: [projection.name, statement])
            }
        }
        try db.execute(sql: """
            INSERT INTO projection_checkpoints (name, version, position) VALUES (?, ?, 0)
            ON CONFLICT (name) DO UPDATE SET version = excluded.version, position = 0
            """, arguments: [projection.name, projection.version])
    }

    /// Every projection's checkpoint against the head of the log.
    public func status() async throws -> [Status] {
        let projections = projections
        return try await database.read { db in try Self.status(of: projections, db) }
    }

    /// The same, inside a read the caller has open (a health check reading more beside it).
    public static func status(of projections: [any Projection] = BuiltInProjections.all, _ db: any SQLSession) throws -> [Status] {
        let head: Int64 = try db.fetchValue(sql: "SELECT COALESCE(MAX(position), 0) FROM events") ?? 0
        return try projections.map { projection in
            let checkpoint: Int64 = try db.fetchValue(sql: "SELECT position FROM projection_checkpoints WHERE name = ?",
                                                      arguments: [projection.name]) ?? 0
            return Status(name: projection.name, version: projection.version, checkpoint: checkpoint, head: head)
        }
    }

    /// Empties the named projections (all when `names` is empty), then rebuilds them from the log.
    public func rebuild(_ names: [String] = [], progress: (@Sendable (Progress) -> Void)? = nil) async throws {
        let chosen = names.isEmpty ? projections : projections.filter { names.contains($0.name) }
        try await database.write { db in for projection in chosen { try Self.reset(projection, db) } }
        try await catchUp(progress: progress)
    }

    /// Applies the events each projection has not seen yet, in batches. Each batch reads the
    /// checkpoints inside its own write transaction (another process may have moved them), and
    /// its table writes and checkpoints commit together: a crash resumes where the last batch
    /// ended, and no event is applied twice or skipped. Memory stays bounded by one batch.
    public func catchUp(progress: (@Sendable (Progress) -> Void)? = nil) async throws {
        let clock = ContinuousClock()
        let start = clock.now
        let initial = try await status()
        guard let first = initial.map(\.checkpoint).min(), let head = initial.first?.head, first < head else {
            return try await buildPendingIndexes()
        }
        let (projections, batchSize) = (projections, batchSize)
        while true {
            let reached: Int64? = try await database.write { db in
                var checkpoints: [String: Int64] = [:]
                for projection in projections {
                    checkpoints[projection.name] = try db.fetchValue(
                        sql: "SELECT position FROM projection_checkpoints WHERE name = ?", arguments: [projection.name]) ?? 0
                }
                guard let lowest = checkpoints.values.min() else { return nil }
                let events = try db.fetchEvents(sql: "SELECT \(RecordedEvent.columns) FROM events WHERE position > ? ORDER BY position LIMIT ?",
                                                arguments: [lowest, batchSize]).map(ProjectedEvent.init)
                guard let last = events.last?.recorded.position else { return nil }
                for projection in projections {
                    let checkpoint = checkpoints[projection.name, default: 0]
                    try projection.apply(checkpoint < events[0].recorded.position ? events : events.filter { $0.recorded.position > checkpoint }, db)
                }
                for projection in projections where checkpoints[projection.name, default: 0] < last {
                    try db.execute(sql: "UPDATE projection_checkpoints SET position = ? WHERE name = ?", arguments: [last, projection.name])
                }
                return last
            }
            guard let reached else { return try await buildPendingIndexes() }
            progress?(Progress(applied: min(reached, head) - first, total: head - first, elapsed: clock.now - start))
        }
    }

    /// Builds the query indexes that waited for the catch-up to reach the head, in one
    /// transaction; checked with a read first, so that an up-to-date database takes no write lock.
    func buildPendingIndexes() async throws {
        guard !(try await database.read { db in try Self.pendingIndexes(db) }).isEmpty else { return }
        try await database.write { db in
            for statement in try Self.pendingIndexes(db) { try db.execute(sql: statement) }
            if try db.tableExists("projection_pending_indexes") { try db.execute(sql: "DELETE FROM projection_pending_indexes") }
        }
    }

    /// The query indexes waiting for the catch-up to reach the head.
    static func pendingIndexes(_ db: any SQLSession) throws -> [String] {
        guard try db.tableExists("projection_pending_indexes") else { return [] }
        return try db.fetchAll(sql: "SELECT statement FROM projection_pending_indexes ORDER BY projection, statement").map { try $0[0] as String }
    }
}

/// Keeps the projections current inside each append's transaction, so a command's result
/// is visible to the next query. A projection that is behind (new, or being rebuilt) is
/// left to ``ProjectionRunner/catchUp(progress:)``: it never applies an event twice or skips one.
public struct InlineProjections: AppendObserver {
    let projections: [any Projection]

    public init(_ projections: [any Projection] = BuiltInProjections.all) {
        self.projections = projections
    }

    public func didAppend(_ events: [RecordedEvent], in db: any SQLSession) throws {
        guard let first = events.first, let last = events.last else { return }
        let projected = try events.map(ProjectedEvent.init)
        let checkpoints = Dictionary(try db.fetchAll(sql: "SELECT name, position FROM projection_checkpoints")
            .map { (try $0[0] as String, try $0[1] as Int64) }) { first, _ in first }
        for projection in projections {
            guard checkpoints[projection.name] == first.position - 1 else { continue }
            try projection.apply(projected, db)
            try db.execute(sql: "UPDATE projection_checkpoints SET position = ? WHERE name = ?", arguments: [last.position, projection.name])
        }
    }
}
