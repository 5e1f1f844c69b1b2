import Synchronization

/// Wakes waiting subscribers when this process appends.
final class AppendSignal: Sendable {
    private let waiters = Mutex<[Int: CheckedContinuation<Void, Never>]>([:])
    private let nextTicket = Atomic<Int>(0)

    /// Wakes every waiter.
    func notify() {
        let woken = waiters.withLock { waiting in
            defer { waiting.removeAll() }
            return Array(waiting.values)
        }
        for continuation in woken { continuation.resume() }
    }

    /// Returns at the next `notify()`, after `timeout`, or when the task is cancelled.
    func wait(timeout: Duration) async {
        let ticket = nextTicket.add(1, ordering: .relaxed).newValue
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await Task.sleep(for: timeout)
                self.resume(ticket)
            }
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { continuation in
                        let alreadyGone = self.waiters.withLock { waiting -> Bool in
                            if Task.isCancelled { return true }
                            waiting[ticket] = continuation
                            return false
                        }
                        if alreadyGone { continuation.resume() }
                    }
                } onCancel: {
                    self.resume(ticket)
                }
            }
            await group.next()
            group.cancelAll()
            self.resume(ticket)
        }
    }

    private func resume(_ ticket: Int) {
        waiters.withLock { $0.removeValue(forKey: ticket) }?.resume()
    }
}
