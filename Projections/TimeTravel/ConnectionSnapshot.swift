import CredlogDomain
import CredlogEvents

/// A moment of the log: a time, or a position.
public enum PointInTime: Sendable, Equatable {
    case time(Timestamp)
    case position(Int64)

    /// Whether `event` had happened by this moment.
    public func includes(_ event: RecordedEvent) -> Bool {
        switch self {
        case .time(let time): event.recordedAt <= time
        case .position(let position): event.position <= position
        }
    }
}

/// A connection as it was at a moment, with when and by whom its status and credential were last set.
public struct ConnectionSnapshot: Sendable, Equatable {
    public var connectionId: String
    public var state: ConnectionState
    /// The number of its events up to the moment.
    public var streamVersion: Int64
    /// The position of its last event up to the moment.
    public var lastPosition: Int64
    /// When its status (active, inactive, deleted) last changed, and who changed it.
    public var statusSince: Timestamp
    public var statusChangedBy: EventActor
    /// When its current credential was set (created, reconnected or refreshed), and the event's stream version.
    public var credentialSetAt: Timestamp
    public var credentialVersion: Int64
    /// How it was set: `created`, `reconnected` or `refreshed` (an OAuth2 token refresh).
    public var credentialSource: String
    /// Who created it (its owner), and who last reconnected it.
    public var createdBy: EventActor
    public var reconnectedBy: EventActor?
    /// The last recheck: when, and the provider's answer.
    public var lastCheckedAt: Timestamp?
    public var lastCheck: ConnectionEvent.Check?

    /// Folds a connection's events up to `point`; `nil` if it did not exist yet.
    public static func fold(_ events: [RecordedEvent], upTo point: PointInTime) throws -> ConnectionSnapshot? {
        var snapshot: ConnectionSnapshot?
        for event in events where point.includes(event) {
            let decoded = try event.decode(as: ConnectionEvent.self)
            let before = snapshot?.state ?? .initial
            let after = ConnectionState.evolve(before, decoded)
            var next = snapshot ?? ConnectionSnapshot(
                connectionId: event.stream.connectionId ?? "", state: after, streamVersion: 0, lastPosition: 0,
                statusSince: event.recordedAt, statusChangedBy: event.actor, credentialSetAt: event.recordedAt, credentialVersion: 1,
                credentialSource: "created", createdBy: event.actor, reconnectedBy: nil)
            if before.statusName != .deleted, StatusTransition(from: before.statusName, by: decoded) != nil {
                next.statusSince = event.recordedAt
                next.statusChangedBy = event.actor
            }
            if decoded.credentials != nil, decoded.typeName != ConnectionEvent.TypeName.credentialsResealed {
                next.credentialSetAt = event.recordedAt
                next.credentialVersion = event.streamVersion
                next.credentialSource = switch decoded {
                case .tokenRefreshed: "refreshed"
                case .reconnected: "reconnected"
                default: "created"
                }
            }
            if case .reconnected = decoded { next.reconnectedBy = event.actor }
            if case .checked(let check) = decoded { (next.lastCheckedAt, next.lastCheck) = (event.recordedAt, check) }
            next.state = after
            next.streamVersion = event.streamVersion
            next.lastPosition = event.position
            snapshot = next
        }
        return snapshot
    }

    /// `Active`, `Inactive` or `Deleted`.
    public var statusName: String {
        state.statusName?.title ?? "None"
    }
}

extension ConnectionState {
    /// The status as stored: `nil` before the connection exists.
    var statusName: StatusName? {
        switch self {
        case .none: nil
        case .deleted: .deleted
        case .live(let connection): connection.status.name
        }
    }
}

/// Reads a connection's state at any moment of the log.
public struct TimeTravel: Sendable {
    let store: any EventStore

    public init(store: any EventStore) { self.store = store }

    /// The connection as it was at `point`; `nil` if it did not exist then.
    public func connection(_ id: String, at point: PointInTime) async throws -> ConnectionSnapshot? {
        try ConnectionSnapshot.fold(try await store.readStream(.connection(id), from: 1), upTo: point)
    }
}
