/// Reads the log from a position in batches (catch-up), then follows new events as they are appended (live).
///
/// Pull-based: a slow consumer simply reads later, nothing buffers without bound.
/// New appends in this process wake it at once; appends by other processes are
/// seen within `pollInterval`.
public struct EventSubscription: AsyncSequence, Sendable {
    public typealias Element = RecordedEvent

    let store: any EventStore
    let start: Int64
    let batchSize: Int
    let pollInterval: Duration

    public struct AsyncIterator: AsyncIteratorProtocol {
        let store: any EventStore
        var next: Int64
        let batchSize: Int
        let pollInterval: Duration
        var buffer: [RecordedEvent] = []
        var index = 0

        public mutating func next() async throws -> RecordedEvent? {
            while index == buffer.count {
                try Task.checkCancellation()
                let mark = store.appendMark()
                buffer = try await store.readAll(from: next, limit: batchSize)
                index = 0
                if let last = buffer.last {
                    next = last.position + 1
                } else {
                    await store.waitForAppends(since: mark, timeout: pollInterval)
                }
            }
            defer { index += 1 }
            return buffer[index]
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(store: store, next: Swift.max(1, start), batchSize: batchSize, pollInterval: pollInterval)
    }
}
