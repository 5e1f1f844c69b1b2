import Synchronization

/// Wakes waiting subscribers when this process appends.
///
/// A counter of appends closes the race between "I read nothing new" and "I wait": a waiter
/// passes the count it saw before reading, and returns at once if appends happened since.
final class AppendSignal: Sendable {
    private struct State {
        var appends: UInt64 = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())
    private let nextTicket = Atomic<Int>(0)

    /// How many appends this process has signalled so far.
    var appends: UInt64 { state.withLock { $0.appends } }

    /// Counts an append and wakes every waiter.
    func notify() {
        let woken = state.withLock { state in
            state.appends &+= 1
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for continuation in woken { continuation.resume() }
    }

    /// Returns once appends have been signalled since `seen` (at once if they already were),
    /// after `timeout`, or when the task is cancelled.
    func wait(since seen: UInt64, timeout: Duration) async {
        let ticket = nextTicket.add(1, ordering: .relaxed).newValue
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await Task.sleep(for: timeout)
                self.resume(ticket)
            }
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { continuation in
                        let returnNow = self.state.withLock { state -> Bool in
                            if Task.isCancelled || state.appends != seen { return true }
                            state.waiters[ticket] = continuation
                            return false
                        }
                        if returnNow { continuation.resume() }
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
        state.withLock { $0.waiters.removeValue(forKey: ticket) }?.resume()
    }
}
