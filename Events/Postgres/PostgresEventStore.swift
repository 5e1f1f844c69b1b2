import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// The event log in PostgreSQL, shared by every credlog server on the database.
///
/// Appends run in the database's write transaction, which first takes one advisory lock
/// (``PostgresDatabase/write(_:)``): the append reads the head of the log only once the
/// previous append has committed, so positions are gapless and commit in position order — a
/// reader that has seen position N has seen every position below it, and never skips an
/// event that commits late. Concurrent callers of one process are grouped (``GroupCommit``):
/// one transaction, one lock and one commit for the group. Each append transaction ends with
/// `NOTIFY credlog_events`, which PostgreSQL delivers on commit to every listening server.
public final class PostgresEventStore: EventStore {
    public let database: PostgresDatabase
    private let signal = AppendSignal()
    private let group: GroupCommit
    /// Whether the listener following other servers' appends was started, by the first wait (a
    /// CLI command never waits), in that wait's ``ServiceScope``.
    private let listening = Mutex(false)

    /// The channel appends notify, with the new head position as payload.
    static let channel = "credlog_events"

    /// - Parameters:
    ///   - observers: run inside each append transaction (inline projections, key shredding).
    public init(database: PostgresDatabase, chain: ChainHasher, observers: [any AppendObserver] = []) {
        self.database = database
        let signal = signal
        group = GroupCommit { [database, chain, observers] requests in
            let results = try await database.write { db in
                let results = try LogWriter.appendGroup(requests, chain: chain, observers: observers, db)
                if let head = results.compactMap({ try? $0.get() }).filter({ !$0.isReplay }).compactMap(\.positions?.upperBound).max() {
                    try db.execute(sql: "SELECT pg_notify(?, ?)", arguments: [Self.channel, String(head)])
                }
                return results
            }
            if results.contains(where: { (try? $0.get())?.isReplay == false }) { signal.notify() }
            return results
        }
    }

    /// Follows `NOTIFY credlog_events` on a connection of its own and wakes this process's
    /// subscribers. When the connection is lost it wakes them too (they catch up by reading
    /// from their position), then listens again after a pause.
    struct NotificationListener: Service {
        let database: PostgresDatabase
        let signal: AppendSignal

        func run() async {
            await PostgresEventStore.listen(database, signal: signal)
        }
    }

    private static func listen(_ database: PostgresDatabase, signal: AppendSignal) async {
        let logger = Logger(label: "credlog.postgres.listen")
        while !Task.isCancelled {
            do {
                try await database.client.withConnection { connection in
                    try await connection.listen(on: channel) { notifications in
                        signal.notify()  // listening from now: whatever came before is read by catching up
                        for try await _ in notifications { signal.notify() }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("lost the PostgreSQL notification connection; catching up and listening again")
            }
            signal.notify()
            try? await Task.sleep(for: .milliseconds(500))
        }
    }

    public func append(_ requests: [AppendRequest]) async throws -> [Result<AppendResult, any Error>] {
        try await group.submit(requests)
    }

    public func idempotentResult(forKey key: String) async throws -> (requestDigest: String, result: AppendResult)? {
        try await database.read { db in try LogWriter.idempotentResult(forKey: key, db) }
    }

    public func readStream(_ stream: StreamID, from version: Int64) async throws -> [RecordedEvent] {
        try await database.read { db in
            try db.fetchAll(sql: "SELECT \(RecordedEvent.columns) FROM events WHERE stream_id = ? AND stream_version >= ? ORDER BY stream_version",
                            arguments: [stream.rawValue, version]).map(RecordedEvent.init(row:))
        }
    }

    public func readStream(_ stream: StreamID, then next: @escaping @Sendable ([RecordedEvent]) -> StreamID?) async throws
        -> (first: [RecordedEvent], second: [RecordedEvent]) {
        try await database.read { db in
            let sql = "SELECT \(RecordedEvent.columns) FROM events WHERE stream_id = ? ORDER BY stream_version"
            let first = try db.fetchAll(sql: sql, arguments: [stream.rawValue]).map(RecordedEvent.init(row:))
            guard let second = next(first) else { return (first, []) }
            return (first, try db.fetchAll(sql: sql, arguments: [second.rawValue]).map(RecordedEvent.init(row:)))
        }
    }

    public func readAll(from position: Int64, limit: Int) async throws -> [RecordedEvent] {
        try await database.read { db in
            try db.fetchAll(sql: "SELECT \(RecordedEvent.columns) FROM events WHERE position >= ? ORDER BY position LIMIT ?",
                            arguments: [position, Int64(min(limit, Int(Int64.max)))]).map(RecordedEvent.init(row:))
        }
    }

    public func headPosition() async throws -> Int64 {
        try await database.read { db in try ChainHead.read(db).position }
    }

    public func appendMark() -> UInt64 { signal.appends }

    /// Returns once any server appended since `mark` (notified by PostgreSQL), or after `timeout`.
    public func waitForAppends(since mark: UInt64, timeout: Duration) async {
        let start = listening.withLock { started in
            defer { started = true }
            return !started
        }
        // Outside a scope nothing listens: the wait ends at its timeout, and the caller reads anyway.
        if start, !ServiceScope.start(NotificationListener(database: database, signal: signal)) {
            listening.withLock { $0 = false }
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
