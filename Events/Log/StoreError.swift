/// Why the store refused an append or a read.
public enum StoreError: Error, Equatable, CustomStringConvertible {
    /// Optimistic concurrency: the stream moved on since the caller read it.
    case wrongExpectedVersion(stream: StreamID, expected: ExpectedVersion, actual: Int64)
    /// The idempotency key was already used by a different command.
    case idempotencyKeyReused(key: String)
    /// An append with no events.
    case emptyAppend(stream: StreamID)
    /// The database has no credlog schema: run `credlog init`.
    case notInitialised(path: String)
    /// `--db` names no database credlog can open.
    case badLocation(String)
    /// The database was migrated by a newer credlog: this one does not know its schema.
    case newerSchema(database: String, unknown: [String])
    /// The database refused a statement (PostgreSQL's message, which names no value).
    case database(sqlState: String, message: String)
    /// A PostgreSQL database opened where no ``ServiceScope`` would run its connection pool.
    case outsideServiceScope(database: String)

    public var description: String {
        switch self {
        case let .wrongExpectedVersion(stream, expected, actual):
            "concurrency conflict on \(stream): expected \(expected), but it is at version \(actual)"
        case let .idempotencyKeyReused(key):
            "idempotency key '\(key)' was already used for a different command"
        case let .emptyAppend(stream):
            "an append to \(stream) must carry at least one event"
        case let .notInitialised(path):
            "\(path) is not a credlog database: run `credlog init` first"
        case let .badLocation(reason):
            "--db: \(reason)"
        case let .newerSchema(database, unknown):
            "\(database) was migrated by a newer credlog (schema \(unknown.joined(separator: ", ")) unknown here): "
                + "upgrade credlog before using this database"
        case let .database(sqlState, message):
            "the database refused the statement: \(message) (SQLSTATE \(sqlState))"
        case let .outsideServiceScope(database):
            "\(database) was opened outside a ServiceScope: nothing would run its connections (open it inside ServiceScope.run)"
        }
    }
}

extension StoreError {
    /// A statement given more or fewer values than it has placeholders (a credlog bug, refused
    /// before anything runs: PostgreSQL would otherwise take surplus values silently).
    static let wrongArgumentCount = StoreError.database(sqlState: "22023", message: "a statement was given the wrong number of arguments")
}
