import CredlogEvents
import Synchronization

/// The real store, except that `interfere` runs once, just before the first atomic append is
/// written: another writer's change landing between a decision and its append.
final class InterferingStore: WrappingStore, @unchecked Sendable {
    let inner: any EventStore
    private let interfere: Mutex<(@Sendable () async throws -> Void)?>
    /// How many atomic appends were asked for, and how many events each carried.
    let atomicAppends = Mutex<[Int]>([])

    init(_ inner: any EventStore, interfere: (@Sendable () async throws -> Void)? = nil) {
        self.inner = inner
        self.interfere = Mutex(interfere)
    }

    func setInterference(_ body: @escaping @Sendable () async throws -> Void) { interfere.withLock { $0 = body } }

    func appendAtomically(_ requests: [AppendRequest]) async throws -> [AppendResult] {
        atomicAppends.withLock { $0.append(requests.map(\.events.count).reduce(0, +)) }
        if let once = interfere.withLock({ body in defer { body = nil }; return body }) { try await once() }
        return try await inner.appendAtomically(requests)
    }
}
