import CredlogEvents
import CredlogTestSupport
import Foundation
import GRDB
import Synchronization
import Testing

/// Counts the transactions SQLite commits.
final class CommitCounter: TransactionObserver, Sendable {
    let commits = Atomic<Int>(0)
    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { true }
    func databaseDidChange(with event: DatabaseEvent) {}
    func databaseDidCommit(_ db: Database) { commits.add(1, ordering: .relaxed) }
    func databaseDidRollback(_ db: Database) {}
}

@Suite("Group commit")
struct GroupCommitTests {
    @Test func concurrentCallersShareTransactionsAndAllAreAcknowledged() async throws {
        let log = try await TemporaryLog()
        let counter = CommitCounter()
        try await log.pool.write { db in db.add(transactionObserver: counter, extent: .databaseLifetime) }
        let results = try await withThrowingTaskGroup(of: AppendResult.self) { group in
            for task in 0..<64 {
                group.addTask {
                    try await log.store.append(StoreConformanceTests.request(StreamID("t-\(task)"), .noStream, [StoreConformanceTests.event(task)]))
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 64)
        #expect(Set(results.compactMap(\.positions?.lowerBound)) == Set(1...64), "each caller got its own position")
        #expect(try await log.eventCount() == 64)
        let commits = counter.commits.load(ordering: .relaxed)
        #expect(commits < 64, "64 concurrent appends took \(commits) transactions")
        #expect(try await ChainVerifier(chain: ChainHasher(key: log.keys.chainKey)).verify(log.database).isIntact)
    }

    @Test func aFailingRequestDoesNotFailTheOthersInItsGroup() async throws {
        let log = try await TemporaryLog()
        let shared = UUID()
        let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
            for task in 0..<32 {
                group.addTask {
                    // Every other request reuses one event id: only one of those can be stored.
                    let id = task % 2 == 0 ? shared : UUID()
                    let event = EventData(eventId: id, type: "test.happened", payload: Data("{}".utf8))
                    return (try? await log.store.append(StoreConformanceTests.request(StreamID("t-\(task)"), .any, [event]))) != nil
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == 17, "16 distinct ids and one of the shared one")
        #expect(try await log.eventCount() == 17)
        let all = try await log.allEvents()
        #expect(all.map(\.position) == Array(1...17), "positions stay gapless")
        #expect(try await ChainVerifier(chain: ChainHasher(key: log.keys.chainKey)).verify(log.database).isIntact)
    }
}
