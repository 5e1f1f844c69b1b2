import CredlogEvents
import Foundation

/// An independent, deliberately naive replay of the log into the read models, written for the
/// tests only: the projections must agree with it row for row.
struct NaiveFold {
    struct Connection: Equatable {
        var project, piece, auth, name, status: String
        var reason: String?
        var flows: Set<String>
        var connectedAt, statusChangedAt, fingerprint: String
        var expiresAt: String?
    }

    var connections: [String: Connection] = [:]
    /// (connection, flow, attached at, detached at)
    var usage: [(String, String, String, String?)] = []
    /// (position, connection, from, to, reason, actor)
    var history: [(Int64, String, String?, String, String?, String)] = []
    var members: [String: [String: String]] = [:]
    var lastStatus: [String: String] = [:]

    init(_ events: [RecordedEvent]) throws {
        for event in events { try apply(event) }
    }

    mutating func apply(_ event: RecordedEvent) throws {
        let time = event.recordedAt.iso8601
        guard let id = event.stream.connectionId else {
            let project = event.projectId
            switch try event.decode(as: MembershipEvent.self) {
            case .memberAdded(let added): members[project, default: [:]][added.memberId] = added.role.rawValue
            case .roleChanged(let changed): members[project, default: [:]][changed.memberId] = changed.to.rawValue
            case .memberRemoved(let removed): members[project, default: [:]][removed.memberId] = nil
            case .pieceRegistered, .webhookAdded, .webhookRemoved, .tokenIssued, .tokenRevoked, .tokenRotated: break
            }
            return
        }
        func record(_ to: String, _ reason: String?) {
            history.append((event.position, id, lastStatus[id], to, reason, event.actor.id))
            lastStatus[id] = to
        }
        switch try event.decode(as: ConnectionEvent.self) {
        case .created(let c):
            connections[id] = Connection(project: c.projectId, piece: c.piece, auth: c.authType.rawValue, name: c.name, status: "active",
                                         reason: nil, flows: [], connectedAt: time, statusChangedAt: time,
                                         fingerprint: c.credentials.fingerprint, expiresAt: c.credentials.expiresAt)
            record("active", nil)
        case .reconnected(let r):
            if connections[id]?.status == "inactive" {
                connections[id]?.statusChangedAt = time
                record("active", "reconnected")
            }
            connections[id]?.status = "active"
            connections[id]?.reason = nil
            connections[id]?.connectedAt = time
            connections[id]?.fingerprint = r.credentials.fingerprint
            connections[id]?.expiresAt = r.credentials.expiresAt
        case .tokenRefreshed(let r):
            connections[id]?.fingerprint = r.credentials.fingerprint
            connections[id]?.expiresAt = r.credentials.expiresAt
        case .credentialsResealed, .expiryWarned, .checked: break
        case .renamed(let r): connections[id]?.name = r.to
        case .expired(let e):
            connections[id]?.status = "inactive"
            connections[id]?.reason = "expired: " + e.reason
            connections[id]?.statusChangedAt = time
            record("inactive", "expired: " + e.reason)
        case .revoked(let e):
            connections[id]?.status = "inactive"
            connections[id]?.reason = "revoked: " + e.reason
            connections[id]?.statusChangedAt = time
            record("inactive", "revoked: " + e.reason)
        case .deleted:
            connections[id] = nil
            for index in usage.indices where usage[index].0 == id && usage[index].3 == nil { usage[index].3 = time }
            record("deleted", nil)
        case .attachedToFlow(let link):
            connections[id]?.flows.insert(link.flowId)
            usage.append((id, link.flowId, time, nil))
        case .detachedFromFlow(let link):
            connections[id]?.flows.remove(link.flowId)
            for index in usage.indices where usage[index].0 == id && usage[index].1 == link.flowId && usage[index].3 == nil {
                usage[index].3 = time
            }
        }
    }
}
