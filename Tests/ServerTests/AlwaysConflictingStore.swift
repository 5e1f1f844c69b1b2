import CredlogEvents

/// The real store, except that another writer always gets there first: every append is a
/// conflict that leaves the stream at version 7.
struct AlwaysConflictingStore: EventStore {
    let inner: any EventStore

    func append(_ requests: [AppendRequest]) async throws -> [Result<AppendResult, any Error>] {
        requests.map { .failure(StoreError.wrongExpectedVersion(stream: $0.stream, expected: $0.expectedVersion, actual: 7)) }
    }
    func appendAtomically(_ requests: [AppendRequest]) async throws -> [AppendResult] {
        guard let first = requests.first else { return [] }
        throw StoreError.wrongExpectedVersion(stream: first.stream, expected: first.expectedVersion, actual: 7)
    }
    func idempotentResult(forKey key: String) async throws -> (requestDigest: String, result: AppendResult)? {
        try await inner.idempotentResult(forKey: key)
    }
    func readStream(_ stream: StreamID, from version: Int64) async throws -> [RecordedEvent] {
        try await inner.readStream(stream, from: version)
    }
    func readStream(_ stream: StreamID, then next: @escaping @Sendable ([RecordedEvent]) -> StreamID?) async throws
        -> (first: [RecordedEvent], second: [RecordedEvent]) { try await inner.readStream(stream, then: next) }
    func readAll(from position: Int64, limit: Int) async throws -> [RecordedEvent] { try await inner.readAll(from: position, limit: limit) }
    func headPosition() async throws -> Int64 { try await inner.headPosition() }
    func appendMark() -> UInt64 { inner.appendMark() }
    func waitForAppends(since mark: UInt64, timeout: Duration) async { await inner.waitForAppends(since: mark, timeout: timeout) }
    func recordRefusal(_ refusal: Refusal) async throws { try await inner.recordRefusal(refusal) }
    func refusals() async throws -> [Refusal] { try await inner.refusals() }
    func recordCredentialRead(_ read: CredentialRead) async throws { try await inner.recordCredentialRead(read) }
}
