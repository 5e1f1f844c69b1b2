import Synchronization

/// Collects the append requests of concurrent callers and commits them together: one
/// transaction and one fsync for the whole group, each caller resumed once its events are
/// durable. A caller alone pays only a task hop; under load, the next group forms while the
/// current one is being written.
final class GroupCommit: Sendable {
    typealias Outcome = [Result<AppendResult, any Error>]

    private struct Waiting {
        let requests: [AppendRequest]
        let continuation: CheckedContinuation<Outcome, any Error>
    }

    private struct Queue {
        var waiting: [Waiting] = []
        var isWriting = false
    }

    private let queue = Mutex(Queue())
    private let commit: @Sendable ([AppendRequest]) async throws -> Outcome
    /// The most requests one transaction takes.
    let maxRequests: Int

    /// - Parameter commit: writes requests in one transaction and returns one result per request.
    init(maxRequests: Int = 1_024, commit: @escaping @Sendable ([AppendRequest]) async throws -> Outcome) {
        self.maxRequests = maxRequests
        self.commit = commit
    }

    /// Queues `requests` (kept together, in order) and returns their results once committed.
    func submit(_ requests: [AppendRequest]) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            let leads = queue.withLock { queue -> Bool in
                queue.waiting.append(Waiting(requests: requests, continuation: continuation))
                guard !queue.isWriting else { return false }
                queue.isWriting = true
                return true
            }
            if leads { Task { await self.drain() } }
        }
    }

    /// Commits groups until nobody is waiting.
    private func drain() async {
        while true {
            let group = queue.withLock { queue -> [Waiting] in
                var count = 0
                var taken = 0
                while taken < queue.waiting.count, taken == 0 || count + queue.waiting[taken].requests.count <= maxRequests {
                    count += queue.waiting[taken].requests.count
                    taken += 1
                }
                let group = Array(queue.waiting.prefix(taken))
                queue.waiting.removeFirst(taken)
                if group.isEmpty { queue.isWriting = false }
                return group
            }
            guard !group.isEmpty else { return }
            do {
                let results = try await commit(group.flatMap(\.requests))
                var offset = 0
                for waiting in group {
                    waiting.continuation.resume(returning: Array(results[offset..<offset + waiting.requests.count]))
                    offset += waiting.requests.count
                }
            } catch {
                for waiting in group { waiting.continuation.resume(throwing: error) }
            }
        }
    }
}
