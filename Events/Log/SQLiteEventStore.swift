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
            let results = try await database.write { db in
                try Self.appendGroup(requests, chain: chain, observers: observers, db: db)
            }
            if results.contains(where: { (try? $0.get())?.positions != nil }) { signal.notify() }
            return results
        }
    }

    public func append(_ requests: [AppendRequest]) async throws -> [Result<AppendResult, any Error>] {
        try await group.submit(requests)
    }

    /// Writes a group of requests in the current transaction, each in a savepoint.
    private static func appendGroup(_ requests: [AppendRequest], chain: ChainHasher, observers: [any AppendObserver],
                                    db: Database) throws -> [Result<AppendResult, any Error>] {
        var head = try ChainHead.read(db)
        var results: [Result<AppendResult, any Error>] = []
        results.reserveCapacity(requests.count)
        for request in requests {
            let before = head
            do {
                var result: AppendResult?
                try db.inSavepoint {
                    result = try appendOne(request, head: &head, chain: chain, observers: observers, db: db)
                    return .commit
                }
                guard let result else { preconditionFailure("a committed savepoint has a result") }
                results.append(.success(result))
            } catch {
                head = before
                results.append(.failure(error))
            }
        }
        return results
    }

    private static func appendOne(_ request: AppendRequest, head: inout ChainHead, chain: ChainHasher,
                                  observers: [any AppendObserver], db: Database) throws -> AppendResult {
        if let token = request.idempotency, let earlier = try Self.idempotentResult(forKey: token.key, db: db) {
            guard earlier.requestDigest == token.requestDigest else { throw StoreError.idempotencyKeyReused(key: token.key) }
            return earlier.result
        }
        guard !request.events.isEmpty else { throw StoreError.emptyAppend(stream: request.stream) }
        let current = try Int64.fetchOne(db.cachedStatement(sql: "SELECT MAX(stream_version) FROM events WHERE stream_id = ?"),
                                         arguments: [request.stream.rawValue]) ?? 0
        guard request.expectedVersion.accepts(current) else {
            throw StoreError.wrongExpectedVersion(stream: request.stream, expected: request.expectedVersion, actual: current)
        }
        let meta = request.metadata
        let recordedAt = max(meta.recordedAt, head.recordedAt)
        let recordedAtText = recordedAt.iso8601
        let insert = try db.cachedStatement(sql: """
            INSERT INTO events (position, stream_id, stream_version, event_id, event_type, schema_version, recorded_at,
                                actor_id, actor_role, project_id, correlation_id, causation_id, payload, hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        var recorded: [RecordedEvent] = []
        recorded.reserveCapacity(request.events.count)
        let first = head.position + 1
        for (offset, event) in request.events.enumerated() {
            let row = ChainHasher.Row(
                position: first + Int64(offset), streamId: request.stream.rawValue,
                streamVersion: current + 1 + Int64(offset), eventId: event.eventId.uuidString.lowercased(),
                eventType: event.type, schemaVersion: Int64(event.schemaVersion), recordedAt: recordedAtText,
                actorId: meta.actor.id, actorRole: meta.actor.roleName, projectId: meta.projectId,
                correlationId: meta.correlationId, causationId: meta.causationId,
                payload: String(decoding: event.payload, as: UTF8.self))
            let hash = chain.hash(previous: head.hash, row: row)
            try insert.execute(arguments: [
                row.position, row.streamId, row.streamVersion, row.eventId, row.eventType, row.schemaVersion,
                row.recordedAt, row.actorId, row.actorRole, row.projectId, row.correlationId, row.causationId,
                row.payload, Data(hash),
            ])
            head = ChainHead(position: row.position, hash: hash, recordedAt: recordedAt)
            recorded.append(RecordedEvent(
                position: row.position, stream: request.stream, streamVersion: row.streamVersion, eventId: event.eventId,
                type: event.type, schemaVersion: event.schemaVersion, recordedAt: recordedAt, actor: meta.actor,
                projectId: meta.projectId, correlationId: meta.correlationId, causationId: meta.causationId,
                payload: event.payload, hash: hash))
        }
        let result = AppendResult(stream: request.stream, positions: first...head.position,
                                  streamVersion: current + Int64(request.events.count))
        if let token = request.idempotency {
            try db.cachedStatement(sql: """
                INSERT INTO idempotency_keys (key, request_digest, stream_id, first_position, last_position, stream_version)
                VALUES (?, ?, ?, ?, ?, ?)
                """).execute(arguments: [token.key, token.requestDigest, request.stream.rawValue, first, head.position, result.streamVersion])
        }
        for key in request.newDataKeys {
            try db.cachedStatement(sql: "INSERT INTO data_keys (connection_id, data_key_id, master_key_id, wrapped) VALUES (?, ?, ?, ?)")
                .execute(arguments: [key.connectionId, key.dataKeyId, key.masterKeyId, Data(key.wrapped)])
        }
        for observer in observers { try observer.didAppend(recorded, in: db) }
        return result
    }

    public func idempotentResult(forKey key: String) async throws -> (requestDigest: String, result: AppendResult)? {
        try await database.read { db in try Self.idempotentResult(forKey: key, db: db) }
    }

    private static func idempotentResult(forKey key: String, db: Database) throws -> (requestDigest: String, result: AppendResult)? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM idempotency_keys WHERE key = ?", arguments: [key]) else {
            return nil
        }
        let first: Int64 = row["first_position"]
        let last: Int64 = row["last_position"]
        return (row["request_digest"], AppendResult(stream: StreamID(row["stream_id"] as String), positions: first...last,
                                                     streamVersion: row["stream_version"], isReplay: true))
    }

    public func readStream(_ stream: StreamID, from version: Int64) async throws -> [RecordedEvent] {
        try await database.read { db in
            try RecordedEvent.fetchAll(db, sql: "SELECT * FROM events WHERE stream_id = ? AND stream_version >= ? ORDER BY stream_version",
                                       arguments: [stream.rawValue, version])
        }
    }

    public func readStream(_ stream: StreamID, then next: @Sendable ([RecordedEvent]) -> StreamID?) async throws
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
        try await database.read { db in try ChainHead.read(db).position }
    }

    public func appendMark() -> UInt64 { signal.appends }

    public func waitForAppends(since mark: UInt64, timeout: Duration) async {
        await signal.wait(since: mark, timeout: timeout)
    }

    public func recordRefusal(_ refusal: Refusal) async throws {
        try await database.write { db in
            try db.execute(sql: """
                INSERT INTO refusals (recorded_at, actor_id, actor_role, project_id, stream_id, command, reason, correlation_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [refusal.recordedAt.iso8601, refusal.actorId, refusal.actorRole, refusal.projectId,
                                 refusal.stream?.rawValue, refusal.command, refusal.reason, refusal.correlationId])
        }
    }

    public func recordCredentialRead(_ read: CredentialRead) async throws {
        try await database.write { db in
            try db.execute(sql: """
                INSERT INTO credential_reads (recorded_at, actor_id, project_id, connection_id, credential_version,
                                              correlation_id, via)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [read.recordedAt.iso8601, read.actorId, read.projectId, read.connectionId,
                                 read.credentialVersion, read.correlationId, read.via])
        }
    }

    public func refusals() async throws -> [Refusal] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM refusals ORDER BY id").map { row in
                let streamId: String? = row["stream_id"]
                return Refusal(recordedAt: Timestamp(iso8601: row["recorded_at"]) ?? Timestamp(microseconds: 0),
                        actorId: row["actor_id"], actorRole: row["actor_role"], projectId: row["project_id"],
                        stream: streamId.map { StreamID($0) }, command: row["command"],
                        reason: row["reason"], correlationId: row["correlation_id"])
            }
        }
    }
}

/// The last event of the log: where the next append goes and what it chains to.
struct ChainHead: Sendable {
    var position: Int64
    var hash: [UInt8]
    var recordedAt: Timestamp

    static func read(_ db: Database) throws -> ChainHead {
        guard let row = try Row.fetchOne(db, sql: "SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1") else {
            return ChainHead(position: 0, hash: ChainHasher.genesis, recordedAt: Timestamp(microseconds: 0))
        }
        let hash: Data = row["hash"]
        return ChainHead(position: row["position"], hash: [UInt8](hash),
                         recordedAt: Timestamp(iso8601: row["recorded_at"]) ?? Timestamp(microseconds: 0))
    }
}

extension RecordedEvent: FetchableRecord {
    /// Decodes a row of `SELECT * FROM events`, reading columns by position (the table's order):
    /// position, stream_id, stream_version, event_id, event_type, schema_version, recorded_at,
    /// actor_id, actor_role, project_id, correlation_id, causation_id, payload, hash.
    public init(row: Row) throws {
        let position: Int64 = row[0]
        let eventId: String = row[3]
        let recordedAt: String = row[6]
        guard let id = UUID(hexString: eventId), let time = Timestamp(iso8601: recordedAt),
              let actor = EventActor(id: row[7], roleName: row[8]) else {
            throw CorruptEventRow(position: position)
        }
        self.init(
            position: position, stream: StreamID(row[1] as String), streamVersion: row[2], eventId: id, type: row[4],
            schemaVersion: row[5], recordedAt: time, actor: actor, projectId: row[9], correlationId: row[10],
            causationId: row[11], payload: row.dataNoCopy(atIndex: 12).map { Data($0) } ?? Data(),
            hash: row.dataNoCopy(atIndex: 13).map { [UInt8]($0) } ?? [])
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
