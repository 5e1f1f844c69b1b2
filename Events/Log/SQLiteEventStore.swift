import Foundation
import GRDB

/// The event log in SQLite (WAL, `synchronous=FULL` by default).
///
/// Appends take SQLite's write lock (`BEGIN IMMEDIATE`) and read the head of the chain
/// inside that transaction: the chain cannot fork, even across processes. Concurrent
/// callers' requests are grouped (``GroupCommit``): one transaction, one fsync, each
/// request in its own savepoint so that one failing does not fail the others.
public final class SQLiteEventStore: EventStore {
    public let database: DatabasePool
    private let chain: ChainHasher
    private let observers: [any AppendObserver]
    private let signal = AppendSignal()
    private let group: GroupCommit

    /// - Parameters:
    ///   - observers: run inside each append transaction (inline projections, key shredding).
    public init(database: DatabasePool, chain: ChainHasher, observers: [any AppendObserver] = []) {
        self.database = database
        self.chain = chain
        self.observers = observers
        let signal = signal
        group = GroupCommit { [database, chain, observers] requests in
            let results = try await SQLiteErrors.mapping {
                try await database.write { db in
                    try LogWriter.appendGroup(requests, chain: chain, observers: observers, SQLiteSession(db))
                }
            }.map { $0.mapError { SQLiteErrors.mapped($0) } }
            if results.contains(where: { (try? $0.get())?.positions != nil }) { signal.notify() }
            return results
        }
    }

    public func append(_ requests: [AppendRequest]) async throws -> [Result<AppendResult, any Error>] {
        try await group.submit(requests)
    }

    public func idempotentResult(forKey key: String) async throws -> (requestDigest: String, result: AppendResult)? {
        try await database.read { db in try LogWriter.idempotentResult(forKey: key, SQLiteSession(db)) }
    }

    public func readStream(_ stream: StreamID, from version: Int64) async throws -> [RecordedEvent] {
        try await database.read { db in
            try RecordedEvent.fetchAll(db, sql: "SELECT * FROM events WHERE stream_id = ? AND stream_version >= ? ORDER BY stream_version",
                                       arguments: [stream.rawValue, version])
        }
    }

    public func readStream(_ stream: StreamID, then next: @escaping @Sendable ([RecordedEvent]) -> StreamID?) async throws
        -> (first: [RecordedEvent], second: [RecordedEvent]) {
        try await database.read { db in
            let sql = "SELECT * FROM events WHERE stream_id = ? ORDER BY stream_version"
            let first = try RecordedEvent.fetchAll(db.cachedStatement(sql: sql), arguments: [stream.rawValue])
            guard let second = next(first) else { return (first, []) }
            return (first, try RecordedEvent.fetchAll(db.cachedStatement(sql: sql), arguments: [second.rawValue]))
        }
    }

    public func readAll(from position: Int64, limit: Int) async throws -> [RecordedEvent] {
        try await database.read { db in
            try RecordedEvent.fetchAll(db, sql: "SELECT * FROM events WHERE position >= ? ORDER BY position LIMIT ?",
                                       arguments: [position, limit])
        }
    }

    public func headPosition() async throws -> Int64 {
        try await database.read { db in try ChainHead.read(SQLiteSession(db)).position }
    }

    public func appendMark() -> UInt64 { signal.appends }

    public func waitForAppends(since mark: UInt64, timeout: Duration) async {
        await signal.wait(since: mark, timeout: timeout)
    }

    public func recordRefusal(_ refusal: Refusal) async throws {
        try await database.write { db in try LogWriter.recordRefusal(refusal, SQLiteSession(db)) }
    }

    public func recordCredentialRead(_ read: CredentialRead) async throws {
        try await database.write { db in try LogWriter.recordCredentialRead(read, SQLiteSession(db)) }
    }

    public func refusals() async throws -> [Refusal] {
        try await database.read { db in try LogWriter.refusals(SQLiteSession(db)) }
    }
}

extension RecordedEvent: FetchableRecord {}

/// SQLite's rows of `events`, read without copying them into ``SQLRow`` first.
extension Row: EventRow {
    public func int64(at column: Int) throws -> Int64 { try decode(Int64.self, atIndex: column) }
    public func string(at column: Int) throws -> String { try decode(String.self, atIndex: column) }
    public func data(at column: Int) throws -> Data {
        guard let data = dataNoCopy(atIndex: column) else { throw UnexpectedRow(column: "#\(column)", expected: "bytes") }
        return Data(data)
    }
}

extension UUID {
    /// Parses the canonical 8-4-4-4-12 hexadecimal form without going through `sscanf`.
    init?(hexString text: String) {
        var text = text
        let parsed: uuid_t? = text.withUTF8 { bytes -> uuid_t? in
            guard bytes.count == 36, bytes[8] == 45, bytes[13] == 45, bytes[18] == 45, bytes[23] == 45 else { return nil }
            var out = [UInt8](repeating: 0, count: 16)
            var index = 0
            var high: UInt8?
            for byte in bytes where byte != 45 {
                let value: UInt8
                switch byte {
                case 48...57: value = byte - 48
                case 97...102: value = byte - 87
                case 65...70: value = byte - 55
                default: return nil
                }
                if let first = high {
                    guard index < 16 else { return nil }
                    out[index] = first << 4 | value
                    index += 1
                    high = nil
                } else {
                    high = value
                }
            }
            guard index == 16 else { return nil }
            return (out[0], out[1], out[2], out[3], out[4], out[5], out[6], out[7],
                    out[8], out[9], out[10], out[11], out[12], out[13], out[14], out[15])
        }
        guard let parsed else { return nil }
        self.init(uuid: parsed)
    }
}

/// A row of the `events` table whose columns cannot be read back (edited by hand).
public struct CorruptEventRow: Error, CustomStringConvertible {
    public let position: Int64
    public var description: String { "the event at position \(position) is corrupt: run `credlog verify`" }
}
