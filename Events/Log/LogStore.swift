import Foundation
import Synchronization

/// The event log in a credlog database, on either backend: the same SQL through ``SQLDatabase``.
///
/// Appends run in the database's write transaction — SQLite's write lock (`BEGIN IMMEDIATE`), or
/// on PostgreSQL one advisory lock that every write transaction takes first
/// (``PostgresDatabase/write(_:)``) — and read the head of the chain inside it: the chain cannot
/// fork, even across processes and servers, and positions are gapless and commit in position
/// order (a reader that has seen position N has seen every position below it). Concurrent callers
/// of one process are grouped (``GroupCommit``): one transaction, one sync and one commit for the
/// group, each request in its own savepoint so that one failing does not fail the others. On
/// PostgreSQL each append transaction ends with `NOTIFY credlog_events`, which PostgreSQL delivers
/// on commit to every listening server.
public final class LogStore: EventStore {
    public let database: any SQLDatabase
    private let chain: ChainHasher
    private let observers: [any AppendObserver]
    private let signal = AppendSignal()
    private let group: GroupCommit
    private let metrics: LogMetrics
    /// Whether the listener following other servers' appends (PostgreSQL) was started, by the first
    /// wait (a CLI command never waits), in that wait's ``ServiceScope``.
    private let listening = Mutex(false)

    /// - Parameters:
    ///   - observers: run inside each append transaction (inline projections, key shredding).
    ///   - metrics: where each group commit is counted and timed.
    public init(database: any SQLDatabase, chain: ChainHasher, observers: [any AppendObserver] = [], metrics: LogMetrics = .none) {
        self.database = database
        self.chain = chain
        self.observers = observers
        self.metrics = metrics
        let signal = signal
        group = GroupCommit { [database, chain, observers] requests in
            let results: [Result<AppendResult, any Error>]
            let start = ContinuousClock.now
            do {
                results = try await database.write { db in
                    let results = try LogWriter.appendGroup(requests, chain: chain, observers: observers, db)
                    try Self.notifyOtherServers(of: results.compactMap { try? $0.get() }, db)
                    return results
                }
            } catch {
                let failed = [Result<AppendResult, any Error>](repeating: .failure(error), count: requests.count)
                metrics.recordCommit(requests: requests.count, results: failed, duration: ContinuousClock.now - start)
                // A request alone fails with its transaction (``LogWriter/appendGroup``); a group's
                // failure fails every caller in it (``GroupCommit``).
                if requests.count == 1 { return failed }
                throw error
            }
            metrics.recordCommit(requests: requests.count, results: results, duration: ContinuousClock.now - start)
            if results.contains(where: { (try? $0.get())?.isReplay == false }) { signal.notify() }
            return results
        }
    }

    /// Under a span `append` (the requests and events it carries; never their content), a child
    /// of the caller's (the command's) span.
    public func append(_ requests: [AppendRequest]) async throws -> [Result<AppendResult, any Error>] {
        try await withSpanWhenTracing("append") { span in
            span?.attributes["credlog.append.requests"] = requests.count
            span?.attributes["credlog.append.events"] = requests.reduce(0) { $0 + $1.events.count }
            return try await group.submit(requests)
        }
    }

    /// Its own write transaction, outside the group commit: such appends are rare (an admin
    /// moving flows), and one failing must fail them all.
    public func appendAtomically(_ requests: [AppendRequest]) async throws -> [AppendResult] {
        let results = try await database.write { [chain, observers] db in
            let results = try LogWriter.appendAll(requests, chain: chain, observers: observers, db)
            try Self.notifyOtherServers(of: results, db)
            return results
        }
        metrics.recordAtomicAppend(results)
        if results.contains(where: { !$0.isReplay }) { signal.notify() }
        return results
    }

    /// On PostgreSQL, `NOTIFY` of the new head, delivered on commit to every listening server.
    private static func notifyOtherServers(of results: [AppendResult], _ db: any SQLSession) throws {
        guard db.dialect == .postgres, let head = results.filter({ !$0.isReplay }).compactMap(\.positions?.upperBound).max() else { return }
        try db.execute(sql: "SELECT pg_notify(?, ?)", arguments: [PostgresNotifications.channel, String(head)])
    }

    public func idempotentResult(forKey key: String) async throws -> (requestDigest: String, result: AppendResult)? {
        try await database.read { db in try LogWriter.idempotentResult(forKey: key, db) }
    }

    public func readStream(_ stream: StreamID, from version: Int64) async throws -> [RecordedEvent] {
        try await database.read { db in
            try db.fetchEvents(sql: "SELECT \(RecordedEvent.columns) FROM events WHERE stream_id = ? AND stream_version >= ? ORDER BY stream_version",
                               arguments: [stream.rawValue, version])
        }
    }

    public func readStream(_ stream: StreamID, then next: @escaping @Sendable ([RecordedEvent]) -> StreamID?) async throws
        -> (first: [RecordedEvent], second: [RecordedEvent]) {
        try await database.read { db in
            let sql = "SELECT \(RecordedEvent.columns) FROM events WHERE stream_id = ? ORDER BY stream_version"
            let first = try db.fetchEvents(sql: sql, arguments: [stream.rawValue])
            guard let second = next(first) else { return (first, []) }
            return (first, try db.fetchEvents(sql: sql, arguments: [second.rawValue]))
        }
    }

    public func readAll(from position: Int64, limit: Int) async throws -> [RecordedEvent] {
        try await database.read { db in
            try db.fetchEvents(sql: "SELECT \(RecordedEvent.columns) FROM events WHERE position >= ? ORDER BY position LIMIT ?",
                               arguments: [position, Int64(min(limit, Int(Int64.max)))])
        }
    }

    public func headPosition() async throws -> Int64 {
        try await database.read { db in try ChainHead.read(db).position }
    }

    public func appendMark() -> UInt64 { signal.appends }

    /// Returns once this process appended since `mark` — on PostgreSQL, any server (notified by
    /// PostgreSQL) — or after `timeout`.
    public func waitForAppends(since mark: UInt64, timeout: Duration) async {
        if let postgres = database.underlying as? PostgresDatabase {
            let start = listening.withLock { started in
                defer { started = true }
                return !started
            }
            // Outside a scope nothing listens: the wait ends at its timeout, and the caller reads anyway.
            if start, !ServiceScope.start(PostgresNotifications.Listener(database: postgres, signal: signal)) {
                listening.withLock { $0 = false }
            }
        }
        await signal.wait(since: mark, timeout: timeout)
    }

    public func recordRefusal(_ refusal: Refusal) async throws {
        try await database.write { db in try LogWriter.recordRefusal(refusal, db) }
    }

    public func refusals() async throws -> [Refusal] {
        try await database.read { db in try LogWriter.refusals(db) }
    }

    public func recordCredentialRead(_ read: CredentialRead) async throws {
        try await database.write { db in try LogWriter.recordCredentialRead(read, db) }
    }
}
