import Foundation

/// The append, written once for every backend: it runs inside the backend's write transaction
/// (which excludes every other writer of the log, in any process) and reads the head of the
/// chain there, so positions are gapless, commit in position order and the chain cannot fork.
enum LogWriter {
    /// Writes a group of requests in the current transaction, each in a savepoint, so that one
    /// failing (a conflict, a constraint) does not fail the others. A request alone throws its
    /// failure instead, and the transaction is rolled back.
    static func appendGroup(_ requests: [AppendRequest], chain: ChainHasher, observers: [any AppendObserver],
                            _ db: any SQLSession) throws -> [Result<AppendResult, any Error>] {
        var head = try ChainHead.read(db)
        if requests.count == 1 {
            // Alone in its transaction: a failure rolls the whole transaction back, so no
            // savepoint is needed (its journal of changed pages is a temporary file on SQLite).
            return [.success(try appendOne(requests[0], head: &head, chain: chain, observers: observers, db))]
        }
        var results: [Result<AppendResult, any Error>] = []
        results.reserveCapacity(requests.count)
        for request in requests {
            let before = head
            do {
                results.append(.success(try db.savepoint {
                    try appendOne(request, head: &head, chain: chain, observers: observers, db)
                }))
            } catch {
                head = before
                results.append(.failure(error))
            }
        }
        return results
    }

    /// Writes every request in the current transaction, or throws the first failure (and the
    /// caller's transaction rolls back, none of them written).
    static func appendAll(_ requests: [AppendRequest], chain: ChainHasher, observers: [any AppendObserver],
                          _ db: any SQLSession) throws -> [AppendResult] {
        var head = try ChainHead.read(db)
        return try requests.map { request in try appendOne(request, head: &head, chain: chain, observers: observers, db) }
    }

    private static func appendOne(_ request: AppendRequest, head: inout ChainHead, chain: ChainHasher,
                                  observers: [any AppendObserver], _ db: any SQLSession) throws -> AppendResult {
        if let token = request.idempotency, let earlier = try idempotentResult(forKey: token.key, db) {
            guard earlier.requestDigest == token.requestDigest else { throw StoreError.idempotencyKeyReused(key: token.key) }
            return earlier.result
        }
        guard !request.events.isEmpty else { throw StoreError.emptyAppend(stream: request.stream) }
        let versions = try streamVersions([request.stream] + request.unchangedStreams.keys, db)
        let current = versions[request.stream, default: 0]
        guard request.expectedVersion.accepts(current) else {
            throw StoreError.wrongExpectedVersion(stream: request.stream, expected: request.expectedVersion, actual: current)
        }
        for (stream, version) in request.unchangedStreams.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            let actual = versions[stream, default: 0]
            guard actual == version else {
                throw StoreError.wrongExpectedVersion(stream: stream, expected: version == 0 ? .noStream : .exact(version), actual: actual)
            }
        }
        let meta = request.metadata
        let recordedAt = max(meta.recordedAt, head.recordedAt)
        let recordedAtText = recordedAt.iso8601
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
            try db.execute(sql: """
                INSERT INTO events (position, stream_id, stream_version, event_id, event_type, schema_version, recorded_at,
                                    actor_id, actor_role, project_id, correlation_id, causation_id, payload, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [
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
            try db.execute(sql: """
                INSERT INTO idempotency_keys (key, request_digest, stream_id, first_position, last_position, stream_version)
                VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [token.key, token.requestDigest, request.stream.rawValue, first, head.position, result.streamVersion])
        }
        for key in request.newDataKeys {
            // A connection's event opens only its current credential: once it has a new key, its
            // retired ones (from before a master key rotation) open nothing anyone needs.
            if !key.connectionId.hasPrefix(StreamID.projectPrefix) {
                try db.execute(sql: "DELETE FROM data_keys WHERE connection_id = ? AND retired = 1", arguments: [key.connectionId])
            }
            try db.execute(sql: "INSERT INTO data_keys (connection_id, data_key_id, master_key_id, wrapped) VALUES (?, ?, ?, ?)",
                           arguments: [key.connectionId, key.dataKeyId, key.masterKeyId, Data(key.wrapped)])
        }
        for change in request.accessTokenChanges { try AccessTokens.apply(change, db) }
        for observer in observers { try observer.didAppend(recorded, in: db) }
        return result
    }

    /// The versions of `streams` (0 for a stream with no event), in one statement: one round
    /// trip to PostgreSQL, and on SQLite one index lookup per stream.
    private static func streamVersions(_ streams: [StreamID], _ db: any SQLSession) throws -> [StreamID: Int64] {
        let lookups = Array(repeating: "(SELECT MAX(stream_version) FROM events WHERE stream_id = ?)", count: streams.count)
        guard let row = try db.fetchOne(sql: "SELECT " + lookups.joined(separator: ", "), arguments: SQLArguments(streams.map(\.rawValue.sqlValue)))
        else { return [:] }
        var versions: [StreamID: Int64] = [:]
        for (index, stream) in streams.enumerated() { versions[stream] = try row[index] as Int64? ?? 0 }
        return versions
    }

    /// The result an earlier append recorded under this idempotency key.
    static func idempotentResult(forKey key: String, _ db: any SQLSession) throws
        -> (requestDigest: String, result: AppendResult)? {
        guard let row = try db.fetchOne(sql: "SELECT * FROM idempotency_keys WHERE key = ?", arguments: [key]) else {
            return nil
        }
        let first: Int64 = try row["first_position"]
        let last: Int64 = try row["last_position"]
        return (try row["request_digest"], AppendResult(stream: StreamID(try row["stream_id"] as String), positions: first...last,
                                                     streamVersion: try row["stream_version"], isReplay: true))
    }

    static func recordRefusal(_ refusal: Refusal, _ db: any SQLSession) throws {
        try db.execute(sql: """
            INSERT INTO refusals (recorded_at, actor_id, actor_role, project_id, stream_id, command, reason, correlation_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [refusal.recordedAt.iso8601, refusal.actorId, refusal.actorRole, refusal.projectId,
                             refusal.stream?.rawValue, refusal.command, refusal.reason, refusal.correlationId])
    }

    static func recordCredentialRead(_ read: CredentialRead, _ db: any SQLSession) throws {
        try db.execute(sql: """
            INSERT INTO credential_reads (recorded_at, actor_id, project_id, connection_id, credential_version,
                                          correlation_id, via)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """, arguments: [read.recordedAt.iso8601, read.actorId, read.projectId, read.connectionId,
                             read.credentialVersion, read.correlationId, read.via])
    }

    static func refusals(_ db: any SQLSession) throws -> [Refusal] {
        try db.fetchAll(sql: "SELECT * FROM refusals ORDER BY id").map { row in
            let streamId: String? = try row["stream_id"]
            return Refusal(recordedAt: Timestamp(iso8601: try row["recorded_at"]) ?? Timestamp(microseconds: 0),
                           actorId: try row["actor_id"], actorRole: try row["actor_role"], projectId: try row["project_id"],
                           stream: streamId.map { StreamID($0) }, command: try row["command"],
                           reason: try row["reason"], correlationId: try row["correlation_id"])
        }
    }
}

/// The last event of the log: where the next append goes and what it chains to.
struct ChainHead: Sendable {
    var position: Int64
    var hash: [UInt8]
    var recordedAt: Timestamp

    static func read(_ db: any SQLSession) throws -> ChainHead {
        guard let row = try db.fetchOne(sql: "SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1")
        else { return ChainHead(position: 0, hash: ChainHasher.genesis, recordedAt: Timestamp(microseconds: 0)) }
        return ChainHead(position: try row["position"], hash: [UInt8](try row["hash"] as Data),
                         recordedAt: Timestamp(iso8601: try row["recorded_at"]) ?? Timestamp(microseconds: 0))
    }
}
