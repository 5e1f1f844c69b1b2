import CredlogEvents

/// The real store, except that another writer always gets there first: every append is a
/// conflict that leaves the stream at version 7.
struct AlwaysConflictingStore: WrappingStore {
    let inner: any EventStore

    func append(_ requests: [AppendRequest]) async throws -> [Result<AppendResult, any Error>] {
        requests.map { .failure(StoreError.wrongExpectedVersion(stream: $0.stream, expected: $0.expectedVersion, actual: 7)) }
    }
    func appendAtomically(_ requests: [AppendRequest]) async throws -> [AppendResult] {
        guard let first = requests.first else { return [] }
        throw StoreError.wrongExpectedVersion(stream: first.stream, expected: first.expectedVersion, actual: 7)
    }
}
