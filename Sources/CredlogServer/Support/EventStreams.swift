import Synchronization

/// The server's open event streams (`GET /v1/events/stream`): how many may be open at once and
/// how often an idle one sends a heartbeat. A stream holds a connection for as long as its
/// consumer reads, so their number is capped apart from the connection cap: past it, new
/// streams are answered 503 and the requests of everyone else still get through.
public final class EventStreams: Sendable {
    /// The most streams open at once.
    public let limit: Int
    /// How long an idle stream waits before it sends a heartbeat (a comment line), which keeps
    /// proxies from closing it and tells the server when its consumer has gone.
    public let heartbeat: Duration
    /// How long a stream waits for an append before it reads anyway: appends by other processes
    /// on SQLite are seen this late at most (PostgreSQL notifies every server at once).
    let pollInterval: Duration

    private let open = Atomic<Int>(0)

    public init(limit: Int = 256, heartbeat: Duration = .seconds(15), pollInterval: Duration = .seconds(1)) {
        self.limit = max(1, limit)
        self.heartbeat = max(heartbeat, .milliseconds(10))
        self.pollInterval = max(.milliseconds(10), min(pollInterval, self.heartbeat))
    }

    /// How many streams are open now.
    public var count: Int { open.load(ordering: .relaxed) }

    /// A place for one more stream, or `nil` when all are taken. The place is given back when
    /// the slot is released (when the stream's response is done with).
    func reserve() -> Slot? {
        let (taken, _) = open.wrappingAdd(1, ordering: .relaxed)
        guard taken < limit else {
            open.wrappingSubtract(1, ordering: .relaxed)
            return nil
        }
        return Slot(streams: self)
    }

    /// One open stream's place; released when the last reference to it goes.
    final class Slot: Sendable {
        private let streams: EventStreams
        fileprivate init(streams: EventStreams) { self.streams = streams }
        deinit { streams.open.wrappingSubtract(1, ordering: .relaxed) }
    }
}
