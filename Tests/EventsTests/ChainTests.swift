import CredlogEvents
import CredlogTestSupport
import Foundation
import GRDB
import Testing

@Suite("Hash chain")
struct ChainTests {
    func filled(_ count: Int) async throws -> TemporaryLog {
        let log = try TemporaryLog()
        for n in 1...count {
            _ = try await log.store.append(StoreConformanceTests.request(StreamID("s-\(n % 3)"), .any, [StoreConformanceTests.event(n)]))
        }
        return log
    }

    func verify(_ log: TemporaryLog, expecting head: ChainHeadReference? = nil) throws -> VerificationReport {
        try ChainVerifier(chain: ChainHasher(key: log.keys.chainKey)).verify(log.database, expectedHead: head)
    }

    /// Runs SQL with the append-only triggers dropped, as an attacker with the file would.
    func tamper(_ log: TemporaryLog, _ sql: String) throws {
        try log.database.write { db in
            try db.execute(sql: "DROP TRIGGER IF EXISTS events_refuse_update; DROP TRIGGER IF EXISTS events_refuse_delete")
            try db.execute(sql: sql)
        }
    }

    @Test func anIntactLogVerifies() async throws {
        let log = try await filled(10)
        let report = try verify(log)
        #expect(report.isIntact)
        #expect(report.eventCount == 10)
        #expect(report.head?.position == 10)
        #expect(report.head?.hash == (try await log.store.readAll(from: 10, limit: 1).first?.hash.hex))
    }

    @Test func anEmptyLogIsIntactWithNoHead() throws {
        let log = try TemporaryLog()
        let report = try verify(log)
        #expect(report.isIntact)
        #expect(report.eventCount == 0 && report.head == nil)
    }

    @Test(arguments: [1, 2, 6, 7, 8, 13, 29, 30])
    func rangesCheckedInParallelFindTheFirstProblem(position: Int) async throws {
        let log = try await filled(30)
        let ranges = ChainVerifier(chain: ChainHasher(key: log.keys.chainKey), minimumRange: 7) // 5 ranges
        #expect(try ranges.verify(log.database).isIntact)
        #expect(try ranges.verify(log.database).head == (try verify(log).head))
        try tamper(log, "UPDATE events SET actor_id = 'mallory' WHERE position = \(position)")
        if position + 9 <= 30 { try tamper(log, "DELETE FROM events WHERE position = \(position + 9)") }
        let report = try ranges.verify(log.database)
        #expect(report.firstProblem?.position == Int64(position), "the earliest of two problems, in any range")
        #expect(report.eventCount == Int64(position - 1))
    }

    @Test func triggersRefuseUpdateAndDelete() async throws {
        let log = try await filled(3)
        #expect(throws: DatabaseError.self) { try log.database.write { try $0.execute(sql: "UPDATE events SET payload = '{}'") } }
        #expect(throws: DatabaseError.self) { try log.database.write { try $0.execute(sql: "DELETE FROM events") } }
        #expect(try verify(log).eventCount == 3)
    }

    @Test func anEditedPayloadIsFoundAtItsPosition() async throws {
        let log = try await filled(10)
        try tamper(log, #"UPDATE events SET payload = '{"n":99}' WHERE position = 6"#)
        #expect(try verify(log).firstProblem?.position == 6)
    }

    @Test func anEditedHashBreaksTheNextLink() async throws {
        let log = try await filled(10)
        try tamper(log, "UPDATE events SET hash = zeroblob(32) WHERE position = 4")
        #expect(try verify(log).firstProblem?.position == 4)
    }

    @Test func aDeletedRowIsFound() async throws {
        let log = try await filled(10)
        try tamper(log, "DELETE FROM events WHERE position = 3")
        let problem = try #require(try verify(log).firstProblem)
        #expect(problem.position == 3)
        #expect(problem.reason.contains("missing"))
    }

    @Test func swappedRowsAreFound() async throws {
        let log = try await filled(10)
        try tamper(log, """
            UPDATE events SET position = 1000000 WHERE position = 7;
            UPDATE events SET position = 7 WHERE position = 8;
            UPDATE events SET position = 8 WHERE position = 1000000;
            """)
        #expect(try verify(log).firstProblem?.position == 7)
    }

    @Test func anInsertedRowIsFound() async throws {
        let log = try await filled(5)
        try tamper(log, """
            INSERT INTO events SELECT 6, stream_id, 99, 'forged-id', event_type, schema_version, recorded_at, actor_id,
                   actor_role, project_id, correlation_id, causation_id, payload, hash FROM events WHERE position = 5
            """)
        #expect(try verify(log).firstProblem?.position == 6)
    }

    @Test func aTruncatedLogIsCaughtByTheExpectedHead() async throws {
        let log = try await filled(8)
        let head = try #require(try verify(log).head)
        try tamper(log, "DELETE FROM events WHERE position > 5")
        #expect(try verify(log).isIntact, "a clean cut is invisible without a remembered head")
        let report = try verify(log, expecting: head)
        #expect(report.firstProblem?.position == 6)
        #expect(ChainHeadReference(head.description) == head)
    }

    @Test func aLogRewrittenAfterTheHeadIsCaught() async throws {
        let log = try await filled(8)
        let head = try #require(try verify(log).head)
        let other = try await filled(8) // same shape, different keys and ids: a different history
        let foreignHead = try #require(try verify(other).head)
        #expect(try verify(log, expecting: foreignHead).firstProblem?.position == 8)
        #expect(try verify(log, expecting: head).isIntact)
    }

    @Test func concurrentAppendsNeverForkTheChain() async throws {
        let log = try TemporaryLog()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<64 {
                group.addTask {
                    for n in 0..<5 {
                        _ = try await log.store.append(StoreConformanceTests.request(StreamID("t-\(task)"), .any, [StoreConformanceTests.event(n)]))
                    }
                }
            }
            try await group.waitForAll()
        }
        let report = try verify(log)
        #expect(report.isIntact)
        #expect(report.eventCount == 320)
    }

    @Test func aChainKeyFromAnotherDatabaseDoesNotVerify() async throws {
        let log = try await filled(3)
        let stranger = try TemporaryLog()
        let report = try ChainVerifier(chain: ChainHasher(key: stranger.keys.chainKey)).verify(log.database)
        #expect(report.firstProblem?.position == 1)
    }
}

