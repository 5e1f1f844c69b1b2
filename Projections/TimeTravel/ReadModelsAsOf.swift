import CredlogDomain
import CredlogEvents

/// The connections, flow usage and status history as they stood at a moment, folded in memory
/// from the log's prefix: an as-of report costs one scan of the log, not a rebuild into a
/// scratch database. The folds are the projections' own (``ConnectionRow/evolve(_:_:at:by:position:)``,
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

    /// The connections that existed, in the order they were created (a deleted one is gone, as
    /// from the table), read where they are kept (no copy of them all).
    public var connections: some Sequence<ConnectionRow> { rowChunks.lazy.joined().compactMap { $0 } }
    /// The number of ``connections``.
    public private(set) var connectionCount = 0
    /// The connection `id` as it stood, if it existed.
    public func connection(_ id: String) -> ConnectionRow? {
        rowIndex[id].flatMap { slot in rowChunks[slot / Self.chunk][slot % Self.chunk] }
    }
    /// Every use of a flow, in the order they began.
    public private(set) var flowUses: [FlowUseRow] = []
    /// Every status transition, in log order.
    public private(set) var statusHistory: [StatusChange] = []
    /// The position of the last event folded.
    public private(set) var position: Int64 = 0
    /// The number of events folded.
    public private(set) var events = 0

    /// Each connection's row, in chunks of ``chunk`` rows, and where each id's row is: growing
    /// the fold adds a chunk and moves 24 bytes per id, never every row at once (peak memory).
    private var rowChunks: [[ConnectionRow?]] = []
    private var rowIndex: [String: Int] = [:]
    private static let chunk = 4_096
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
        updateRow(id, decoded, recorded)
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

    /// Folds the event into its connection's row (``ConnectionRow/evolve(_:_:at:by:position:)``),
    /// in place. An id gets a slot at its creation; an event of a connection never created
    /// changes no row, as in the table.
    private mutating func updateRow(_ id: String, _ event: ConnectionEvent, _ recorded: RecordedEvent) {
        let slot: Int
        if let known = rowIndex[id] {
            slot = known
        } else {
            guard case .created = event else { return }
            slot = rowIndex.count
            rowIndex[id] = slot
            if slot % Self.chunk == 0 { rowChunks.append(Array(repeating: nil, count: Self.chunk)) }
        }
        let (chunk, offset) = slot.quotientAndRemainder(dividingBy: Self.chunk)
        connectionCount += Self.evolve(&rowChunks[chunk][offset], event, recorded)
    }

    /// Evolves `row` where it is; returns how the number of connections changed (-1, 0 or 1).
    /// Only the optional's case is looked at, so that the row is never copied to be compared.
    private static func evolve(_ row: inout ConnectionRow?, _ event: ConnectionEvent, _ recorded: RecordedEvent) -> Int {
        let existed: Bool
        if case .none = row { existed = false } else { existed = true }
        ConnectionRow.evolve(&row, event, at: recorded.recordedAt, by: recorded.actor, position: recorded.position)
        if case .none = row { return existed ? -1 : 0 }
        return existed ? 0 : 1
    }

    /// Folds the events of `database` recorded at or before `time` (a prefix of the log: recorded
    /// times never go backwards), up to the head of the log when it starts. Positions are gapless,
    /// so the log is read as consecutive ranges of `batchSize` positions, `readsAhead` of them
    /// read and decoded by the database's readers while this one is folded (every core shares
    /// the work); memory holds `readsAhead + 1` batches of events at a time.
    public static func fold(_ database: any SQLDatabase, upTo time: Timestamp, keeping contents: Contents = [.flowUses, .statusHistory],
                            batchSize: Int = 512, readsAhead: Int = 2) async throws -> ReadModelsAsOf {
        @Sendable func batch(_ positions: ClosedRange<Int64>) async throws -> [ProjectedEvent] {
            try await database.read { db in
                try db.fetchEvents(sql: "SELECT \(RecordedEvent.columns) FROM events WHERE position BETWEEN ? AND ? ORDER BY position",
                                   arguments: [positions.lowerBound, positions.upperBound]).map(ProjectedEvent.init)
            }
        }
        let head: Int64 = try await database.read { try $0.fetchValue(sql: "SELECT COALESCE(MAX(position), 0) FROM events") ?? 0 }
        let size = Int64(max(1, batchSize))
        var models = ReadModelsAsOf(keeping: contents)
        var reads: [Task<[ProjectedEvent], any Error>] = []
        defer { for read in reads { read.cancel() } }
        var next: Int64 = 1
        while true {
            while reads.count <= max(0, readsAhead), next <= head {
                let positions = next...min(head, next + (size - 1))
                reads.append(Task { try await batch(positions) })
                next = positions.upperBound + 1
            }
            guard !reads.isEmpty else { return models }
            for event in try await reads.removeFirst().value {
                guard event.recorded.recordedAt <= time else { return models }
                models.apply(event)
            }
        }
    }
}
