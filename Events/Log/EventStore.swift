/// A refused command, kept for the audit trail. It is not an event: a refusal changes no state.
public struct Refusal: Sendable, Equatable {
    public var recordedAt: Timestamp
    /// The caller's id (a member id, `system` or `engine`).
    public var actorId: String
    /// The caller's role in the project at the time, or `outsider` when not a member.
    public var actorRole: String
    public var projectId: String?
    public var stream: StreamID?
    /// The command that was tried, such as `connection.rename`.
    public var command: String
    /// Why it was refused (never contains a secret).
    public var reason: String
    public var correlationId: String

    public init(recordedAt: Timestamp, actorId: String, actorRole: String, projectId: String?, stream: StreamID?,
                command: String, reason: String, correlationId: String) {
        self.recordedAt = recordedAt
        self.actorId = actorId
        self.actorRole = actorRole
        self.projectId = projectId
        self.stream = stream
        self.command = command
        self.reason = reason
        self.correlationId = correlationId
    }
}

/// The engine read a connection's plaintext credentials, kept for the audit trail. Like a
/// refusal it is not an event: a read changes no state (and must not move the connection's version).
public struct CredentialRead: Sendable, Equatable {
    public var recordedAt: Timestamp
    /// Who read them (`engine`, or the token id it used over HTTP).
    public var actorId: String
    public var projectId: String
    public var connectionId: String
    /// The stream version of the credentials that were read.
    public var credentialVersion: Int64
    /// Ties the read to a flow run or an HTTP request.
    public var correlationId: String
    /// How they left: `cli` or `http`.
    public var via: String

    public init(recordedAt: Timestamp, actorId: String, projectId: String, connectionId: String,
                credentialVersion: Int64, correlationId: String, via: String) {
        self.recordedAt = recordedAt
        self.actorId = actorId
        self.projectId = projectId
        self.connectionId = connectionId
        self.credentialVersion = credentialVersion
        self.correlationId = correlationId
        self.via = via
    }
}

/// The event log. Every backend (SQLite, PostgreSQL) passes the same
/// conformance suite, written against this protocol.
public protocol EventStore: Sendable {
    /// Appends several requests, each atomic and checked against its expected version, and
    /// returns when they are durable. A backend may commit them, with other callers' requests,
    /// in one transaction and one fsync (group commit); one request failing (a ``StoreError``
    /// or a constraint of the database) does not fail the others.
    func append(_ requests: [AppendRequest]) async throws -> [Result<AppendResult, any Error>]

    /// Appends several requests as one, for a decision that spans streams (moving flows from one
    /// connection to another): one transaction, each request checked against its expected
    /// version; if one fails, none is appended and its failure is thrown. Returns when durable.
    func appendAtomically(_ requests: [AppendRequest]) async throws -> [AppendResult]

    /// The result an earlier append recorded under this idempotency key, with its request digest.
    func idempotentResult(forKey key: String) async throws -> (requestDigest: String, result: AppendResult)?

    /// The events of one stream with version `>= version`, in order.
    func readStream(_ stream: StreamID, from version: Int64) async throws -> [RecordedEvent]

    /// Reads a stream, then, in the same snapshot, the stream that `next` names from its events
    /// (a connection's stream, then its project's membership): one consistent read, one round trip.
    func readStream(_ stream: StreamID, then next: @escaping @Sendable ([RecordedEvent]) -> StreamID?) async throws
        -> (first: [RecordedEvent], second: [RecordedEvent])

    /// Up to `limit` events of the whole log with position `>= position`, in order.
    func readAll(from position: Int64, limit: Int) async throws -> [RecordedEvent]

    /// The position of the last event (0 for an empty log).
    func headPosition() async throws -> Int64

    /// A counter of this process's appends, to pass to ``waitForAppends(since:timeout:)``.
    func appendMark() -> UInt64

    /// Returns once events may have been appended since `mark` was read (at once if they
    /// were), or after `timeout` (appends by other processes are only seen by polling).
    func waitForAppends(since mark: UInt64, timeout: Duration) async

    /// Keeps a refused command for the audit trail.
    func recordRefusal(_ refusal: Refusal) async throws

    /// Refused commands, oldest first.
    func refusals() async throws -> [Refusal]

    /// Keeps a read of plaintext credentials for the audit trail.
    func recordCredentialRead(_ read: CredentialRead) async throws
}

extension EventStore {
    /// Appends one request atomically; throws ``StoreError`` on a conflict.
    public func append(_ request: AppendRequest) async throws -> AppendResult {
        guard let result = try await append([request]).first else {
            preconditionFailure("a store returns one result per request")
        }
        return try result.get()
    }

    /// A subscription that reads the log from `position`, then follows new events.
    public func subscribe(from position: Int64 = 1, batchSize: Int = 512,
                          pollInterval: Duration = .milliseconds(200)) -> EventSubscription {
        EventSubscription(store: self, start: position, batchSize: batchSize, pollInterval: pollInterval)
    }
}
