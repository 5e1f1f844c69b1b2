import CredlogEvents

/// The log's events from a position up to a head fixed in advance, as consecutive ranges of
/// positions read and decoded by the database's readers ahead of the one consuming them: while a
/// batch is folded or written, the next `readsAhead` are read and decoded on other connections (and
/// so on the other cores). Positions are gapless, so a range of positions is a batch of events.
///
/// Memory holds at most `readsAhead + 1` batches. Events after `head` are not read.
///
/// ``ReadModelsAsOf/fold(_:upTo:keeping:batchSize:readsAhead:)`` reads the log this way. A catch-up
/// does not: it reads each batch inside its write transaction (tried with a batch read ahead, it was
/// faster, but the database it left cost a server reading it 25 MiB more; see the README).
struct EventBatches {
    private let database: any SQLDatabase
    private let size: Int64
    private let readsAhead: Int
    private let head: Int64
    /// The first position not yet asked for.
    private var next: Int64
    private var reads: [Task<[ProjectedEvent], any Error>] = []

    /// Batches from `start` to `head`, each of `batchSize` positions (at least 1).
    init(_ database: any SQLDatabase, from start: Int64, to head: Int64, batchSize: Int, readsAhead: Int) {
        self.database = database
        self.size = Int64(max(1, batchSize))
        self.readsAhead = max(0, readsAhead)
        self.head = head
        self.next = max(1, start)
    }

    /// The next batch, in position order, or `nil` past `head`.
    mutating func nextBatch() async throws -> [ProjectedEvent]? {
        while reads.count <= readsAhead, next <= head {
            let positions = next...min(head, next + (size - 1))
            let database = database
            reads.append(Task {
                try await database.read { db in
                    try db.fetchEvents(sql: "SELECT \(RecordedEvent.columns) FROM events WHERE position BETWEEN ? AND ? ORDER BY position",
                                       arguments: [positions.lowerBound, positions.upperBound]).map(ProjectedEvent.init)
                }
            })
            next = positions.upperBound + 1
        }
        guard !reads.isEmpty else { return nil }
        return try await reads.removeFirst().value
    }

    /// Stops the reads in flight (their batches are not wanted).
    func cancel() {
        for read in reads { read.cancel() }
    }
}
