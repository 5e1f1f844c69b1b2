import Foundation

/// One event as a caller hands it to the store: type, schema version, JSON payload.
public struct EventData: Sendable, Equatable {
    /// Unique id of this event; other events name it as their causation.
    public var eventId: UUID
    public var type: String
    public var schemaVersion: Int
    /// JSON object.
    public var payload: Data

    public init(eventId: UUID = .random(), type: String, schemaVersion: Int = 1, payload: Data) {
        self.eventId = eventId
        self.type = type
        self.schemaVersion = schemaVersion
        self.payload = payload
    }
}

/// What every event of one append shares: who, for which project, when, and why.
public struct EventMetadata: Sendable, Equatable {
    public var actor: EventActor
    public var projectId: String
    /// Ties together every event of one command or one flow run.
    public var correlationId: String
    /// The command or event that directly caused these events.
    public var causationId: String
    /// The time the command was decided. The store never lets recorded times go
    /// backwards along the log: it records `max(this, previous event's time)`.
    public var recordedAt: Timestamp

    public init(actor: EventActor, projectId: String, correlationId: String, causationId: String, recordedAt: Timestamp) {
        self.actor = actor
        self.projectId = projectId
        self.correlationId = correlationId
        self.causationId = causationId
        self.recordedAt = recordedAt
    }
}

/// A command's idempotency key, and a digest of the command so that reusing the
/// key for a different command is caught.
public struct IdempotencyToken: Sendable, Equatable {
    public var key: String
    public var requestDigest: String
    public init(key: String, requestDigest: String) {
        self.key = key
        self.requestDigest = requestDigest
    }
}

/// One atomic append of several events to one stream.
public struct AppendRequest: Sendable, Equatable {
    public var stream: StreamID
    public var expectedVersion: ExpectedVersion
    public var events: [EventData]
    public var metadata: EventMetadata
    public var idempotency: IdempotencyToken?
    /// Data keys sealed into these events for the first time: stored atomically with them.
    public var newDataKeys: [NewDataKey]
    /// What these events do to access tokens' rows (issue, rotate): done atomically with them.
    public var accessTokenChanges: [AccessTokenChange]
    /// Other streams the decision read, each with the version it read (0: none yet). The append
    /// fails with ``StoreError/wrongExpectedVersion(stream:expected:actual:)`` naming the first
    /// that moved, checked in the write transaction like ``expectedVersion``: a command decided
    /// from its project's membership is appended only if that membership is still the one it saw.
    public var unchangedStreams: [StreamID: Int64]

    public init(stream: StreamID, expectedVersion: ExpectedVersion, events: [EventData], metadata: EventMetadata,
                idempotency: IdempotencyToken? = nil, newDataKeys: [NewDataKey] = [], accessTokenChanges: [AccessTokenChange] = [],
                unchangedStreams: [StreamID: Int64] = [:]) {
        self.stream = stream
        self.expectedVersion = expectedVersion
        self.events = events
        self.metadata = metadata
        self.idempotency = idempotency
        self.newDataKeys = newDataKeys
        self.accessTokenChanges = accessTokenChanges
        self.unchangedStreams = unchangedStreams
    }
}

/// Where an append landed.
public struct AppendResult: Sendable, Equatable, Codable {
    public var stream: StreamID
    /// Global positions of the appended events (empty when nothing was appended).
    public var positions: ClosedRange<Int64>?
    /// The stream's version after the append.
    public var streamVersion: Int64
    /// True when this result was recorded by an earlier attempt with the same idempotency key.
    public var isReplay: Bool

    public init(stream: StreamID, positions: ClosedRange<Int64>?, streamVersion: Int64, isReplay: Bool = false) {
        self.stream = stream
        self.positions = positions
        self.streamVersion = streamVersion
        self.isReplay = isReplay
    }
}

/// An event as the log keeps it.
public struct RecordedEvent: Sendable, Equatable {
    /// Gapless global position, starting at 1.
    public var position: Int64
    public var stream: StreamID
    /// Version within its stream, starting at 1.
    public var streamVersion: Int64
    public var eventId: UUID
    public var type: String
    public var schemaVersion: Int
    public var recordedAt: Timestamp
    public var actor: EventActor
    public var projectId: String
    public var correlationId: String
    public var causationId: String
    public var payload: Data
    /// Keyed BLAKE2b over the previous event's hash and this row (see ``ChainHasher``).
    public var hash: [UInt8]

    public init(position: Int64, stream: StreamID, streamVersion: Int64, eventId: UUID, type: String, schemaVersion: Int,
                recordedAt: Timestamp, actor: EventActor, projectId: String, correlationId: String, causationId: String,
                payload: Data, hash: [UInt8]) {
        self.position = position
        self.stream = stream
        self.streamVersion = streamVersion
        self.eventId = eventId
        self.type = type
        self.schemaVersion = schemaVersion
        self.recordedAt = recordedAt
        self.actor = actor
        self.projectId = projectId
        self.correlationId = correlationId
        self.causationId = causationId
        self.payload = payload
        self.hash = hash
    }

    /// Decodes the payload as a domain event, upcasting old schema versions.
    public func decode<E: StoredEvent>(as type: E.Type) throws -> E {
        try E.decode(type: self.type, schemaVersion: schemaVersion, payload: payload)
    }
}
