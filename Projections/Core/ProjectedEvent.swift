import CredlogEvents

/// An event as projections see it: the recorded envelope and its payload, decoded once
/// for every projection. A class: each projection's pass over a batch shares the one copy.
public final class ProjectedEvent: Sendable {
    public enum Payload: Sendable {
        case connection(ConnectionEvent)
        case membership(MembershipEvent)
        /// A stream credlog does not know (none that it writes).
        case other
    }

    public let recorded: RecordedEvent
    public let payload: Payload
    /// The connection of a connection stream's event (read from the stream's name once).
    public let connectionId: String?

    /// Decodes the payload by the kind of stream, upcasting old schema versions.
    public init(_ recorded: RecordedEvent) throws {
        self.recorded = recorded
        connectionId = recorded.stream.connectionId
        if connectionId != nil {
            payload = .connection(try recorded.decode(as: ConnectionEvent.self))
        } else if recorded.stream.projectId != nil {
            payload = .membership(try recorded.decode(as: MembershipEvent.self))
        } else {
            payload = .other
        }
    }

    /// The connection event and its connection id, for events of a connection stream.
    public var connection: (id: String, event: ConnectionEvent)? {
        guard case .connection(let event) = payload, let id = connectionId else { return nil }
        return (id, event)
    }
}
