import CredlogEvents

/// A read model kept beside the log: a fold over the events, stored in tables of the log's
/// database (SQLite or PostgreSQL: the same statements on both).
///
/// Each projection derives its writes from the event and its own tables only, so it can be
/// rebuilt alone. Its table writes and its checkpoint commit in one transaction.
public protocol Projection: Sendable {
    /// A stable name, such as `connections`.
    var name: String { get }
    /// Bumped whenever the definition changes: credlog then rebuilds it on start.
    var version: Int { get }
    /// The tables it reads and writes, in creation order.
    var tables: [String] { get }
    /// Creates its tables, and the indexes its own `apply` reads through.
    func createTables(_ db: any SQLSession) throws
    /// `CREATE INDEX` statements that only queries use, never its own `apply`. When it is reset
    /// on a non-empty log they wait until the catch-up reaches the head, then each is built in
    /// one sorted pass, far faster than maintained row by row (``ProjectionRunner``).
    var queryIndexes: [String] { get }
    /// Applies one event.
    func apply(_ event: ProjectedEvent, _ db: any SQLSession) throws
    /// Applies consecutive events, as one `apply` after the other would. A projection that
    /// reads its rows to fold an event overrides it to read each row once per batch (each
    /// read is a round trip to PostgreSQL).
    func apply(_ events: [ProjectedEvent], _ db: any SQLSession) throws
    /// Whether work was deferred while replaying a long stretch of the log (read only).
    func hasDeferredWork(_ db: any SQLSession) throws -> Bool
    /// Does that work, once the projection has reached the head of the log.
    func finishDeferredWork(_ db: any SQLSession) throws
}

extension Projection {
    public func apply(_ events: [ProjectedEvent], _ db: any SQLSession) throws {
        for event in events { try apply(event, db) }
    }

    public var queryIndexes: [String] { [] }
    public func hasDeferredWork(_ db: any SQLSession) throws -> Bool { false }
    public func finishDeferredWork(_ db: any SQLSession) throws {}

    /// Drops its tables.
    func dropTables(_ db: any SQLSession) throws {
        for table in tables.reversed() { try db.execute(sql: "DROP TABLE IF EXISTS \(table)") }
    }
}

/// The projections credlog maintains, in the order they are applied.
public enum BuiltInProjections {
    public static let all: [any Projection] = [
        ConnectionsProjection(), FlowUsageProjection(), StatusHistoryProjection(), ProjectMembersProjection(),
    ]

    /// Projections credlog no longer keeps, with their tables: a database that has them drops
    /// them on start (``ProjectionRunner/prepare()``). `audit-trail` copied every event into
    /// `audit_events`; audit queries now read the log itself.
    public static let retired: [String: [String]] = ["audit-trail": ["audit_events"]]

    /// The projection with this name.
    public static func named(_ name: String) -> (any Projection)? { all.first { $0.name == name } }
}
