import CredlogEvents

/// The log as a feed: the events after a position, oldest first, in the projects the reader
/// sees. A consumer keeps the last position it has handled and asks for what comes after it;
/// positions are gapless and become visible in order (one writer at a time on either backend),
/// so resuming after a position neither skips nor repeats an event.
public struct EventFeed: Sendable {
    /// The most events in one page.
    public static let maxLimit = 1000

    /// The last position the consumer has (0 for the beginning of the log).
    public var after: Int64
    /// At most this many events (1…``maxLimit``).
    public var limit: Int
    /// Only this stream's events, when given.
    public var stream: StreamID?

    /// One page of the feed.
    public struct Page: Sendable, Encodable {
        public var events: [LogEntry]
        /// The position to ask after next: the last event's, or the request's `after` when
        /// there was none.
        public var nextAfter: Int64
    }

    public init(after: Int64, limit: Int, stream: StreamID? = nil) {
        self.after = max(0, after)
        self.limit = min(max(1, limit), Self.maxLimit)
        self.stream = stream
    }

    /// The page of the projects `projects` (`nil`: every project).
    public func fetch(projects: [String]?, _ db: any SQLSession) throws -> Page {
        var sql = "SELECT \(RecordedEvent.columns) FROM events WHERE position > ?"
        var arguments: SQLArguments = [after]
        if let stream {
            sql += " AND stream_id = ?"
            arguments.append(stream.rawValue)
        }
        if let projects {
            let (inProjects, projectIds) = SQLArguments.membership("project_id", in: projects)
            sql += " AND " + inProjects
            arguments = arguments + projectIds
        }
        sql += " ORDER BY position LIMIT ?"
        arguments.append(limit)
        let events = try db.fetchEvents(sql: sql, arguments: arguments)
        return Page(events: try events.map(LogEntry.init), nextAfter: events.last?.position ?? after)
    }
}
