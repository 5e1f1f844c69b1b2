import CredlogDomain
import CredlogEvents

/// The connections, flow usage and status history as they stood at a moment, folded in memory
/// from the log's prefix: an as-of report costs one scan of the log, not a rebuild into a
/// scratch database. The folds are the projections' own (``ConnectionRow/evolve(_:_:at:position:)``,
/// ``StatusChange/derive(previous:_:recorded:)``, the flow usage rules), so the result equals the
/// tables rebuilt as of that moment (`ReadModelsAsOfTests` checks it on SQLite and PostgreSQL).
/// Memory grows with the connections of the prefix (and, when kept, its flow uses and status
/// changes), not with its events.
public struct ReadModelsAsOf: Sendable {
    /// What a fold keeps besides the connections (which every report needs).
    public struct Contents: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        public static let flowUses = Contents(rawValue: 1)
        public static let statusHistory = Contents(rawValue: 2)
    }

    /// One use of a flow: a row of `flow_usage`.
    public struct FlowUseRow: Sendable, Equatable {
        public var connectionId: String
        public var flowId: String
        public var projectId: String
        public var attachedAt: String
        public var attachedPosition: Int64
        public var detachedAt: String?
    }

    /// The connections that existed, by id (a deleted one is gone, as from the table).
    public private(set) var connections: [String: ConnectionRow] = [:]
    /// Every use of a flow, in the order they began.
    public private(set) var flowUses: [FlowUseRow] = []
    /// Every status transition, in log order.
    public private(set) var statusHistory: [StatusChange] = []
    /// The position of the last event folded.
    public private(set) var position: Int64 = 0
    /// The number of events folded.
    public private(set) var events = 0

    /// The uses not yet detached, by connection: indexes into ``flowUses``.
    private var openUses: [String: [Int]] = [:]
    /// Each connection's last status in ``statusHistory``.
    private var lastStatus: [String: StatusName] = [:]
    /// What the fold keeps besides the connections.
    public let contents: Contents

    public init(keeping contents: Contents = [.flowUses, .statusHistory]) { self.contents = contents }

    /// Folds one event, as the connections, flow usage and status history projections apply it.
    public mutating func apply(_ event: ProjectedEvent) {
        events += 1
        position = event.recorded.position
        guard let (id, decoded) = event.connection else { return }
        let recorded = event.recorded
        ConnectionRow.evolve(&connections[id], decoded, at: recorded.recordedAt, position: recorded.position)
        if contents.contains(.statusHistory), StatusTransition.mayChange(by: decoded),
           let change = StatusChange.derive(previous: lastStatus[id], decoded, recorded: recorded) {
            lastStatus[id] = change.toStatus
            statusHistory.append(change)
        }
        guard contents.contains(.flowUses) else { return }
        switch decoded {
        case .attachedToFlow(let link):
            openUses[id, default: []].append(flowUses.count)
            flowUses.append(FlowUseRow(connectionId: id, flowId: link.flowId, projectId: recorded.projectId,
                                       attachedAt: recorded.recordedAt.iso8601, attachedPosition: recorded.position))
        case .detachedFromFlow(let link):
            let open = openUses[id] ?? []
            for index in open where flowUses[index].flowId == link.flowId {
                flowUses[index].detachedAt = recorded.recordedAt.iso8601
            }
            openUses[id] = open.filter { flowUses[$0].flowId != link.flowId }
        case .deleted:
            for index in openUses.removeValue(forKey: id) ?? [] { flowUses[index].detachedAt = recorded.recordedAt.iso8601 }
        default:
            break
        }
    }

    /// Folds the events of `database` recorded at or before `time` (a prefix of the log: recorded
    /// times never go backwards), read in batches of `batchSize`. The next batch is read and
    /// decoded by the database's reader while this one is folded (the two cores share the work);
    /// memory holds two batches of events at a time.
    public static func fold(_ database: any SQLDatabase, upTo time: Timestamp, keeping contents: Contents = [.flowUses, .statusHistory],
                            batchSize: Int = 4_096) async throws -> ReadModelsAsOf {
        @Sendable func batch(after position: Int64) async throws -> [ProjectedEvent] {
            try await database.read { db in
                try db.fetchEvents(sql: "SELECT \(RecordedEvent.columns) FROM events WHERE position > ? ORDER BY position LIMIT ?",
                                   arguments: [position, batchSize]).map(ProjectedEvent.init)
            }
        }
        var models = ReadModelsAsOf(keeping: contents)
        var next: Task<[ProjectedEvent], any Error>? = Task { try await batch(after: 0) }
        defer { next?.cancel() }
        while let reading = next {
            let events = try await reading.value
            next = nil
            guard let last = events.last else { break }
            if events.count == batchSize, last.recorded.recordedAt <= time {
                next = Task { try await batch(after: last.recorded.position) }
            }
            for event in events {
                guard event.recorded.recordedAt <= time else { return models }
                models.apply(event)
            }
        }
        return models
    }
}
