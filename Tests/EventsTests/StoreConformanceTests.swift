import CredlogEvents
import CredlogTestSupport
import Foundation
import Testing

/// The event-store contract, run against every backend (PostgreSQL when `CREDLOG_TEST_POSTGRES` is set).
@Suite("Event store conformance", .serviceScope)
struct StoreConformanceTests {
    static func make(_ backend: TestBackend) async throws -> (store: any EventStore, keepAlive: AnyObject) {
        let log = try await TemporaryLog(backend: backend)
        return (log.store, log)
    }

    static let meta = EventMetadata(actor: .member("alice", .admin), projectId: "acme", correlationId: "corr-1",
                                    causationId: "cmd-1", recordedAt: Timestamp(microseconds: 1_000_000))

    static func event(_ n: Int) -> EventData {
        EventData(type: "test.happened", payload: Data(#"{"n":\#(n)}"#.utf8))
    }

    static func request(_ stream: StreamID, _ expected: ExpectedVersion, _ events: [EventData],
                        key: String? = nil, digest: String = "d") -> AppendRequest {
        AppendRequest(stream: stream, expectedVersion: expected, events: events, metadata: meta,
                      idempotency: key.map { IdempotencyToken(key: $0, requestDigest: digest) })
    }

    @Test(arguments: TestBackend.available)
    func expectedVersionsAreChecked(backend: TestBackend) async throws {
        let (store, keep) = try await Self.make(backend)
        defer { withExtendedLifetime(keep) {} }
        let first = try await store.append(Self.request("s-1", .noStream, [Self.event(1), Self.event(2)]))
        #expect(first.positions == 1...2)
        #expect(first.streamVersion == 2)
        await #expect(throws: StoreError.wrongExpectedVersion(stream: "s-1", expected: .noStream, actual: 2)) {
            _ = try await store.append(Self.request("s-1", .noStream, [Self.event(3)]))
        }
        await #expect(throws: StoreError.wrongExpectedVersion(stream: "s-1", expected: .exact(1), actual: 2)) {
            _ = try await store.append(Self.request("s-1", .exact(1), [Self.event(3)]))
        }
        #expect(try await store.append(Self.request("s-1", .exact(2), [Self.event(3)])).streamVersion == 3)
        #expect(try await store.append(Self.request("s-1", .any, [Self.event(4)])).streamVersion == 4)
        #expect(try await store.append(Self.request("s-2", .any, [Self.event(5)])).streamVersion == 1)
        #expect(try await store.readStream("s-1", from: 3).map(\.streamVersion) == [3, 4])
    }

    @Test(arguments: TestBackend.available)
    func anAtomicAppendAcrossStreamsWritesAllOrNothing(backend: TestBackend) async throws {
        let (store, keep) = try await Self.make(backend)
        defer { withExtendedLifetime(keep) {} }
        _ = try await store.append(Self.request("a", .noStream, [Self.event(1)]))
        _ = try await store.append(Self.request("b", .noStream, [Self.event(2)]))
        let valid = Self.request("a", .exact(1), [Self.event(3), Self.event(4)])
        // The second request's version is stale: the first, valid on its own, is not written either.
        await #expect(throws: StoreError.wrongExpectedVersion(stream: "b", expected: .exact(5), actual: 1)) {
            _ = try await store.appendAtomically([valid, Self.request("b", .exact(5), [Self.event(5)])])
        }
        await #expect(throws: StoreError.emptyAppend(stream: "b")) {
            _ = try await store.appendAtomically([valid, Self.request("b", .exact(1), [])])
        }
        #expect(try await store.headPosition() == 2)
        #expect(try await store.readStream("a", from: 1).count == 1)
        let results = try await store.appendAtomically([valid, Self.request("b", .exact(1), [Self.event(5)])])
        #expect(results.map(\.positions) == [3...4, 5...5])
        #expect(results.map(\.streamVersion) == [3, 2])
        #expect(try await store.readAll(from: 1, limit: 10).map(\.position) == [1, 2, 3, 4, 5], "gapless")
    }

    @Test(arguments: TestBackend.available)
    func aStreamAndTheStreamItNamesAreReadTogether(backend: TestBackend) async throws {
        let (store, keep) = try await Self.make(backend)
        defer { withExtendedLifetime(keep) {} }
        _ = try await store.append(Self.request("item-c", .noStream, [Self.event(1), Self.event(2)]))
        _ = try await store.append(Self.request("group-acme", .noStream, [Self.event(3)]))
        let (first, second) = try await store.readStream("item-c") { events in
            events.isEmpty ? nil : StreamID("group-\(events[0].projectId)")
        }
        #expect(first.map(\.streamVersion) == [1, 2])
        #expect(second.map(\.stream) == ["group-acme"])
        let (none, nothing) = try await store.readStream("item-missing") { events in
            events.isEmpty ? nil : StreamID("group-acme")
        }
        #expect(none.isEmpty && nothing.isEmpty)
    }

    @Test(arguments: TestBackend.available)
    func aMultiEventAppendIsAllOrNothing(backend: TestBackend) async throws {
        let (store, keep) = try await Self.make(backend)
        defer { withExtendedLifetime(keep) {} }
        let existing = Self.event(1)
        _ = try await store.append(Self.request("s-1", .noStream, [existing]))
        // The third event reuses an event id: the database refuses it, and with it the whole append.
        let clash = EventData(eventId: existing.eventId, type: "test.happened", payload: Data("{}".utf8))
        await #expect(throws: (any Error).self) {
            _ = try await store.append(Self.request("s-2", .noStream, [Self.event(2), Self.event(3), clash]))
        }
        #expect(try await store.readAll(from: 1, limit: 100).count == 1)
        #expect(try await store.readStream("s-2", from: 1).isEmpty)
    }

    @Test(arguments: TestBackend.available)
    func requestsOfOneBatchSucceedOrFailAlone(backend: TestBackend) async throws {
        let (store, keep) = try await Self.make(backend)
        defer { withExtendedLifetime(keep) {} }
        let results = try await store.append([
            Self.request("a", .noStream, [Self.event(1)]),
            Self.request("a", .noStream, [Self.event(2)]), // conflicts with the first
            Self.request("b", .noStream, [Self.event(3), Self.event(4)]),
        ])
        #expect(try results[0].get().positions == 1...1)
        #expect(throws: StoreError.wrongExpectedVersion(stream: "a", expected: .noStream, actual: 1)) { try results[1].get() }
        #expect(try results[2].get().positions == 2...3, "positions stay gapless after a failed request")
    }

    @Test(arguments: TestBackend.available)
    func positionsAreGaplessAndEveryFieldIsKept(backend: TestBackend) async throws {
        let (store, keep) = try await Self.make(backend)
        defer { withExtendedLifetime(keep) {} }
        for n in 0..<30 {
            _ = try? await store.append(Self.request(StreamID("s-\(n % 4)"), n < 4 ? .noStream : .exact(0), [Self.event(n)]))
            _ = try await store.append(Self.request(StreamID("s-\(n % 4)"), .any, [Self.event(n)]))
        }
        let all = try await store.readAll(from: 1, limit: 1000)
        #expect(all.map(\.position) == Array(1...Int64(all.count)))
        #expect(try await store.headPosition() == Int64(all.count))
        let event = try #require(all.first)
        #expect(event.actor == .member("alice", .admin))
        #expect(event.projectId == "acme")
        #expect(event.correlationId == "corr-1")
        #expect(event.causationId == "cmd-1")
        #expect(event.hash.count == 32)
        // Batches: reading from a position returns the rest, in order.
        #expect(try await store.readAll(from: 10, limit: 5).map(\.position) == [10, 11, 12, 13, 14])
    }

    @Test(arguments: TestBackend.available)
    func recordedTimesNeverGoBackwards(backend: TestBackend) async throws {
        let (store, keep) = try await Self.make(backend)
        defer { withExtendedLifetime(keep) {} }
        var late = Self.request("s", .any, [Self.event(1)])
        late.metadata.recordedAt = Timestamp(microseconds: 5_000_000)
        var early = Self.request("s", .any, [Self.event(2)])
        early.metadata.recordedAt = Timestamp(microseconds: 2_000_000)
        _ = try await store.append(late)
        _ = try await store.append(early)
        #expect(try await store.readAll(from: 1, limit: 10).map(\.recordedAt.microseconds) == [5_000_000, 5_000_000])
    }

    @Test(arguments: TestBackend.available)
    func idempotentRetriesReturnTheFirstResult(backend: TestBackend) async throws {
        let (store, keep) = try await Self.make(backend)
        defer { withExtendedLifetime(keep) {} }
        let first = try await store.append(Self.request("s", .noStream, [Self.event(1)], key: "k-1"))
        let retry = try await store.append(Self.request("s", .noStream, [Self.event(1)], key: "k-1"))
        #expect(retry.positions == first.positions)
        #expect(retry.isReplay)
        #expect(try await store.headPosition() == 1)
        await #expect(throws: StoreError.idempotencyKeyReused(key: "k-1")) {
            _ = try await store.append(Self.request("t", .noStream, [Self.event(2)], key: "k-1", digest: "other"))
        }
        #expect(try await store.idempotentResult(forKey: "k-1")?.result.positions == 1...1)
        #expect(try await store.headPosition() == 1)
    }

    @Test(arguments: TestBackend.available)
    func aSubscriptionCatchesUpThenFollowsLiveEvents(backend: TestBackend) async throws {
        let (store, keep) = try await Self.make(backend)
        defer { withExtendedLifetime(keep) {} }
        for n in 1...5 { _ = try await store.append(Self.request("s", .any, [Self.event(n)])) }
        let received = Task {
            var positions: [Int64] = []
            for try await event in store.subscribe(from: 2, batchSize: 2, pollInterval: .seconds(3600)) {
                positions.append(event.position)
                if positions.count == 7 { break }
            }
            return positions
        }
        // Wait until the subscriber has caught up and is waiting, then append live.
        try await Task.sleep(for: .milliseconds(200))
        for n in 6...8 { _ = try await store.append(Self.request("s", .any, [Self.event(n)])) }
        // The poll interval is an hour: receiving them at all proves the in-process wake-up.
        let positions = try await withThrowingTaskGroup(of: [Int64].self) { group in
            group.addTask { try await received.value }
            group.addTask { try await Task.sleep(for: .seconds(300)); throw CancellationError() }
            defer { group.cancelAll() }
            return try await group.next()!
        }
        #expect(positions == [2, 3, 4, 5, 6, 7, 8])
    }

    @Test(arguments: TestBackend.available)
    func refusalsAreKeptInOrder(backend: TestBackend) async throws {
        let (store, keep) = try await Self.make(backend)
        defer { withExtendedLifetime(keep) {} }
        let refusal = Refusal(recordedAt: Timestamp(microseconds: 7), actorId: "bob", actorRole: "member", projectId: "acme",
                              stream: "connection:c", command: "connection.rename", reason: "forbidden", correlationId: "c")
        try await store.recordRefusal(refusal)
        #expect(try await store.refusals() == [refusal])
        #expect(try await store.headPosition() == 0, "a refusal is not an event")
    }
}
