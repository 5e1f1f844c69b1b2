import CredlogEvents

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
        data = try Self.fields(of: event)
    }

    private static func fields(of event: RecordedEvent) throws -> [String: String] {
        if event.stream.connectionId != nil {
            switch try event.decode(as: ConnectionEvent.self) {
            case .created(let created):
                return credentialFields(created.credentials).merging(
                    ["name": created.name, "piece": created.piece, "authType": created.authType.rawValue]) { $1 }
            case .reconnected(let reconnected): return credentialFields(reconnected.credentials)
            case .renamed(let renamed): return ["from": renamed.from, "to": renamed.to]
            case .expired(let reason), .revoked(let reason): return ["reason": reason.reason]
            case .deleted: return [:]
            case .attachedToFlow(let link), .detachedFromFlow(let link): return ["flow": link.flowId]
            }
        }
        switch try event.decode(as: MembershipEvent.self) {
        case .memberAdded(let added): return ["member": added.memberId, "role": added.role.rawValue]
        case .roleChanged(let changed): return ["member": changed.memberId, "from": changed.from.rawValue, "to": changed.to.rawValue]
        case .memberRemoved(let removed): return ["member": removed.memberId]
        }
    }

    private static func credentialFields(_ sealed: SealedCredentials) -> [String: String] {
        var fields = ["credentials": sealed.fingerprint, "keyId": sealed.keyId]
        fields["expiresAt"] = sealed.expiresAt
        return fields
    }

    /// `key=value` pairs in key order, for the human table.
    var summary: String {
        data.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }
}
