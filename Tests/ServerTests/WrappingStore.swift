import CredlogEvents

/// A store around the real one that changes only what a test needs: every requirement not
/// implemented by the conforming type goes to `inner`.
protocol WrappingStore: EventStore {
    var inner: any EventStore { get }
}

extension WrappingStore {
    func append(_ requests: [AppendRequest]) async throws -> [Result<AppendResult, any Error>] { try await inner.append(requests) }
    func appendAtomically(_ requests: [AppendRequest]) async throws -> [AppendResult] { try await inner.appendAtomically(requests) }
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
