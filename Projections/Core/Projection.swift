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
}

extension Projection {
    public func apply(_ events: [ProjectedEvent], _ db: any SQLSession) throws {
        for event in events { try apply(event, db) }
    }

    public var queryIndexes: [String] { [] }

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

    /// Read models credlog no longer keeps: a database that has them drops them on start
    /// (``ProjectionRunner/prepare()``). The `audit-trail` projection copied every event into
    /// `audit_events` (audit queries read the log itself now); the connections projection's
    /// trigram tables gave way to an in-memory name index (its version 7).
    public static let retired = (projections: ["audit-trail"],
                                 tables: ["audit_events", "connection_name_trigrams", "connection_name_trigrams_state"])

    /// The projection with this name.
    public static func named(_ name: String) -> (any Projection)? { all.first { $0.name == name } }
}
