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
        }
    }
}
