import CredlogEvents
import CredlogProjections

/// One event as `credlog log` prints it. Sealed credentials appear only as fingerprints.
struct LogEntryView: Encodable {
    var position: Int64
    var recordedAt: String
    var stream: String
    var streamVersion: Int64
    var eventId: String
    var type: String
    var schemaVersion: Int
    var actor: String
    var actorRole: String
    var project: String
    var correlationId: String
    var causationId: String
    var hash: String
    /// The payload's fields, with credentials replaced by their fingerprint.
    var data: [String: String]

    init(_ event: RecordedEvent) throws {
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
    var summary: String { EventSummary.text(data) }
}
