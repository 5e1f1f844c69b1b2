import CredlogDomain
import CredlogEvents

/// One line of the audit trail: an appended event, a refused command or a credential read.
public struct AuditEntry: Sendable, Equatable, ReadModelRecord {
    public var at: String
    /// The event's position; `nil` for a refused command (it appended nothing).
    public var position: Int64?
    /// `appended`, `refused`, or `read` (the engine read plaintext credentials).
    public var outcome: String
    public var projectId: String?
    public var connectionId: String?
    public var actorId: String
    public var actorRole: String
    /// The event type, or the refused command.
    public var action: String
    /// The event's fields (secrets as fingerprints), or why the command was refused.
    public var detail: String
    public var correlationId: String

}

/// Filters over the audit trail, and the page to read; every filter is optional.
///
/// The trail merges three sources by time: the log's events (by position), refused commands
/// and credential reads (each by its row id); at the same time an event comes first, then a
/// refusal, then a read. Newest first, the same order reversed. A page's cursor holds how far it
/// has read in each source, so reading page by page gives exactly the entries of one unpaged
/// read, each once.
public struct AuditQuery: Sendable {
    /// The most entries in one page.
    public static let maxLimit = 1000

    public var projectId: String?
    public var connectionId: String?
    public var actorId: String?
    /// An event type (`connection.renamed`) or a command (`connection.rename`).
    public var action: String?
    public var since: String?
    public var until: String?
    /// Only these projects (what the caller may see); `nil` for all.
    public var visibleProjects: [String]?
    /// At most this many entries (1…``maxLimit``); `nil` for every entry.
    public var limit: Int?
    /// The `nextCursor` of the previous page.
    public var after: String?
    /// The latest entries first.
    public var newestFirst: Bool

    /// One page of the trail.
    public struct Page: Sendable, Encodable {
        public var entries: [AuditEntry]
        /// Where the next page starts; `nil` when this page ends the trail.
        public var nextCursor: String?
    }

    public init(projectId: String? = nil, connectionId: String? = nil, actorId: String? = nil, action: String? = nil,
                since: String? = nil, until: String? = nil, visibleProjects: [String]? = nil, limit: Int? = nil, after: String? = nil,
                newestFirst: Bool = false) {
        self.projectId = projectId
        self.connectionId = connectionId
        self.actorId = actorId
        self.action = action
        self.since = since
        self.until = until
        self.visibleProjects = visibleProjects
        self.limit = limit.map { min(max(1, $0), Self.maxLimit) }
        self.after = after
        self.newestFirst = newestFirst
    }

    /// Every entry that passes the filters (from the cursor on, when there is one), oldest first.
    public func fetch(_ db: any SQLSession) throws -> [AuditEntry] {
        var all = self
        all.limit = nil
        return try all.page(db).entries
    }

    /// The page of at most `limit` entries after the cursor, oldest first.
    public func page(_ db: any SQLSession) throws -> Page {
        let start = try after.map { try Cursor(decoding: $0, newestFirst: newestFirst) } ?? Cursor(newestFirst: newestFirst)
        // Each source is read in chunks as the merge takes from it: a page reads about what it
        // returns, not `limit` rows of every source.
        let chunk = limit.map { min($0 + 1, Self.chunk) }
        var sources = [
            Source(after: start.event) { after, count in try events(after: after, count: count, db) },
            Source(after: start.refusal) { after, count in try others(Self.refusals, after: after, count: count, db) },
            Source(after: start.read) { after, count in try others(Self.reads, after: after, count: count, db) },
        ]
        var cursor = start
        var entries: [AuditEntry] = []
        while entries.count < limit ?? .max {
            for index in sources.indices { try sources[index].fill(chunk) }
            guard let source = next(sources) else { break }
            let (entry, seq) = sources[source].take()
            entries.append(entry)
            cursor.advance(source, to: seq)
        }
        for index in sources.indices { try sources[index].fill(chunk) }
        let more = sources.contains { $0.head != nil }
        return Page(entries: entries, nextCursor: more ? cursor.encoded : nil)
    }

    /// Rows read from one source at a time while paging.
    static let chunk = 64

    /// One source of the trail as the merge reads it: what is buffered, and where to read on.
    struct Source {
        private var buffer: [(AuditEntry, Int64)] = []
        private var taken = 0
        private var after: Int64
        private var exhausted = false
        private let read: (Int64, Int?) throws -> [(AuditEntry, Int64)]

        init(after: Int64, read: @escaping (Int64, Int?) throws -> [(AuditEntry, Int64)]) {
            self.after = after
            self.read = read
        }

        /// The next entry, if one is buffered.
        var head: (AuditEntry, Int64)? { taken < buffer.count ? buffer[taken] : nil }

        /// Reads the next `chunk` rows (all of them when `nil`) once the buffer is used up.
        mutating func fill(_ chunk: Int?) throws {
            guard head == nil, !exhausted else { return }
            buffer = try read(after, chunk)
            taken = 0
            exhausted = chunk.map { buffer.count < $0 } ?? true
            if let last = buffer.last { after = last.1 }
        }

        mutating func take() -> (AuditEntry, Int64) {
            defer { taken += 1 }
            return buffer[taken]
        }
    }

    /// The source whose next entry comes next: the earliest time, and at the same time the
    /// first source (events, then refusals, then reads) — newest first, the latest time and the
    /// last source; `nil` when every source is read.
    private func next(_ sources: [Source]) -> Int? {
        var best: (index: Int, at: String)?
        for index in newestFirst ? Array(sources.indices.reversed()) : Array(sources.indices) {
            guard let at = sources[index].head?.0.at else { continue }
            guard let chosen = best?.at else {
                best = (index, at)
                continue
            }
            if newestFirst ? Self.precedes(chosen, at) : Self.precedes(at, chosen) { best = (index, at) }
        }
        return best?.index
    }

    /// How far a page has read in each source: the last event's position and the last
    /// refusal's and read's row ids. Written `E-R-C`, newest first `nE-R-C`.
    struct Cursor: Equatable {
        var event: Int64
        var refusal: Int64
        var read: Int64
        let newestFirst: Bool

        /// Before the first entry.
        init(newestFirst: Bool) {
            let start = newestFirst ? Int64.max : 0
            (event, refusal, read, self.newestFirst) = (start, start, start, newestFirst)
        }

        init(decoding text: String, newestFirst: Bool) throws {
            let body = newestFirst ? (text.hasPrefix("n") ? text.dropFirst() : "") : Substring(text)
            let parts = body.utf8.count <= 64 ? body.split(separator: "-", omittingEmptySubsequences: false).map { Int64($0) } : []
            guard parts.count == 3, let event = parts[0], let refusal = parts[1], let read = parts[2],
                  event >= 0, refusal >= 0, read >= 0 else {
                throw DomainError.invalid("the cursor is not one credlog issued for this order; start again without it")
            }
            (self.event, self.refusal, self.read, self.newestFirst) = (event, refusal, read, newestFirst)
        }

        var encoded: String { (newestFirst ? "n" : "") + "\(event)-\(refusal)-\(read)" }

        mutating func advance(_ source: Int, to seq: Int64) {
            switch source {
            case 0: event = seq
            case 1: refusal = seq
            default: read = seq
            }
        }
    }

    /// Appended events after `position` that pass the filters, in log order or its reverse (read from the log
    /// itself: the audit trail is no copy of it; a connection's events are its stream's).
    private func events(after position: Int64, count: Int?, _ db: any SQLSession) throws -> [(AuditEntry, Int64)] {
        var filter = filter(Columns(project: "project_id", connection: "stream_id", actor: "actor_id", action: "event_type",
                                    time: "recorded_at", seq: "position"),
                            connection: connectionId.map { StreamID.connection($0).rawValue }, after: position)
        filter.sql += " ORDER BY position" + (newestFirst ? " DESC" : "") + (count == nil ? "" : " LIMIT ?")
        if let count { filter.arguments.append(count) }
        return try db.fetchEvents(sql: "SELECT \(RecordedEvent.columns) FROM events \(filter.sql)", arguments: filter.arguments)
            .map { (try Self.entry($0), $0.position) }
    }

    /// One table of entries that are not events: how its rows read as entries, and its columns.
    struct OtherSource {
        var select: String
        var columns: Columns
        /// The connection filter's value, from a connection id.
        var connectionValue: @Sendable (String) -> String
    }

    static let refusals = OtherSource(select: """
        SELECT recorded_at AS at, NULL AS position, 'refused' AS outcome, project_id,
               CASE WHEN stream_id LIKE 'connection:%' THEN substr(stream_id, 12) END AS connection_id,
               actor_id, actor_role, command AS action, reason AS detail, correlation_id, id AS seq
        FROM refusals
        """, columns: Columns(project: "project_id", connection: "stream_id", actor: "actor_id", action: "command", time: "recorded_at",
                              seq: "id"),
        connectionValue: { StreamID.connection($0).rawValue })

    static let reads = OtherSource(select: """
        SELECT recorded_at AS at, NULL AS position, 'read' AS outcome, project_id, connection_id, actor_id, 'engine' AS actor_role,
               'connection.credentials-read' AS action, 'credential version ' || credential_version || ' via ' || via AS detail,
               correlation_id, id AS seq
        FROM credential_reads
        """, columns: Columns(project: "project_id", connection: "connection_id", actor: "actor_id",
                              action: "'connection.credentials-read'", time: "recorded_at", seq: "id"),
        connectionValue: { $0 })

    /// A source's rows after row id `seq` that pass the filters, by row id (newest first: before it, down).
    private func others(_ source: OtherSource, after seq: Int64, count: Int?, _ db: any SQLSession) throws -> [(AuditEntry, Int64)] {
        var filter = filter(source.columns, connection: connectionId.map(source.connectionValue), after: seq)
        filter.sql += " ORDER BY id" + (newestFirst ? " DESC" : "") + (count == nil ? "" : " LIMIT ?")
        if let count { filter.arguments.append(count) }
        return try db.fetchAll(sql: source.select + " " + filter.sql, arguments: filter.arguments)
            .map { row in
                // By column position, in the order of the sources' SELECT.
                (AuditEntry(at: try row[0], position: try row[1], outcome: try row[2], projectId: try row[3], connectionId: try row[4],
                            actorId: try row[5], actorRole: try row[6], action: try row[7], detail: try row[8], correlationId: try row[9]),
                 try row[10] as Int64)
            }
    }

    /// The columns a source's filters compare.
    struct Columns {
        var project, connection, actor, action, time, seq: String
    }

    private func filter(_ columns: Columns, connection connectionValue: String?, after seq: Int64) -> (sql: String, arguments: SQLArguments) {
        var clauses = ["\(columns.seq) \(newestFirst ? "<" : ">") ?"]
        var arguments: SQLArguments = [seq]
        func add(_ clause: String, _ value: (any SQLBindable)?) {
            guard let value else { return }
            clauses.append(clause)
            arguments.append(value)
        }
        add("\(columns.project) = ?", projectId)
        add("\(columns.connection) = ?", connectionValue)
        add("\(columns.actor) = ?", actorId)
        add("\(columns.action) = ?", action)
        add("\(columns.time) >= ?", since)
        add("\(columns.time) <= ?", until)
        if let visibleProjects {
            let (inProjects, projectIds) = SQLArguments.membership(columns.project, in: visibleProjects)
            clauses.append(inProjects)
            arguments = arguments + projectIds
        }
        return ("WHERE " + clauses.joined(separator: " AND "), arguments)
    }

    /// An appended event's line: its fields, with secrets as fingerprints (``EventSummary``).
    private static func entry(_ recorded: RecordedEvent) throws -> AuditEntry {
        let event = try ProjectedEvent(recorded)
        return AuditEntry(at: recorded.recordedAt.iso8601, position: recorded.position, outcome: "appended", projectId: recorded.projectId,
                          connectionId: event.connectionId, actorId: recorded.actor.id, actorRole: recorded.actor.roleName,
                          action: recorded.type, detail: EventSummary.text(EventSummary.fields(of: event)),
                          correlationId: recorded.correlationId)
    }

    /// Text order as SQLite's `BINARY` collation sorts it (by UTF-8 bytes).
    private static func precedes(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }
}
