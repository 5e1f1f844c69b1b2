import CredlogEvents

/// One event as `credlog log --json` prints it and the feed (`GET /v1/events`) serves it. Sealed
/// credentials appear only as fingerprints.
public struct LogEntry: Sendable, Encodable {
    public var position: Int64
    public var recordedAt: String
    public var stream: String
    public var streamVersion: Int64
    public var eventId: String
    public var type: String
    public var schemaVersion: Int
    public var actor: String
    public var actorRole: String
    public var project: String
    public var correlationId: String
    public var causationId: String
    public var hash: String
    /// The payload's fields, with credentials replaced by their fingerprint.
    public var data: [String: String]

    /// The entry of a recorded event; throws when its payload cannot be read.
    public init(_ event: RecordedEvent) throws {
        position = event.position
        recordedAt = event.recordedAt.iso8601
        stream = event.stream.rawValue
        streamVersion = event.streamVersion
        eventId = event.eventId.uuidString.lowercased()
        type = event.type
        schemaVersion = event.schemaVersion
        actor = event.actor.id
        actorRole = event.actor.roleName
        project = event.projectId
        correlationId = event.correlationId
        causationId = event.causationId
        hash = event.hash.hex
        data = EventSummary.fields(of: try ProjectedEvent(event))
    }

    /// `key=value` pairs in key order, for the human table.
    public var summary: String { EventSummary.text(data) }
}
