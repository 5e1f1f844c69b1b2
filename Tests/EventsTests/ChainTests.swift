import CredlogEvents
import CredlogTestSupport
import Foundation
import GRDB
import Testing

@Suite("Hash chain", .serviceScope)
struct ChainTests {
    func filled(_ count: Int, _ backend: TestBackend = .sqlite) async throws -> TemporaryLog {
        let log = try await TemporaryLog(backend: backend)
        for n in 1...count {
            _ = try await log.store.append(StoreConformanceTests.request(StreamID("s-\(n % 3)"), .any, [StoreConformanceTests.event(n)]))
        }
        return log
    }

    func verify(_ log: TemporaryLog, expecting head: ChainHeadReference? = nil) async throws -> VerificationReport {
        try await ChainVerifier(chain: ChainHasher(key: log.keys.chainKey)).verify(log.database, expectedHead: head)
    }

    /// Runs SQL with the append-only triggers out of the way, as an attacker with the file (or
    /// the database owner's password) would.
    func tamper(_ log: TemporaryLog, _ sql: String, _ arguments: SQLArguments = []) async throws {
        try await log.database.write { db in
            if db.dialect == .postgres {
                try db.execute(sql: "ALTER TABLE events DISABLE TRIGGER USER")
            } else {
                try db.executeScript("DROP TRIGGER IF EXISTS events_refuse_update; DROP TRIGGER IF EXISTS events_refuse_delete")
            }
            if arguments.values.isEmpty { try db.executeScript(sql) } else { try db.execute(sql: sql, arguments: arguments) }
        }
    }

    @Test(arguments: TestBackend.available) func anIntactLogVerifies(backend: TestBackend) async throws {
        let log = try await filled(10, backend)
        let report = try await verify(log)
        #expect(report.isIntact)
        #expect(report.eventCount == 10)
        #expect(report.head?.position == 10)
        #expect(report.head?.hash == (try await log.store.readAll(from: 10, limit: 1).first?.hash.hex))
    }

    @Test(arguments: TestBackend.available) func anEmptyLogIsIntactWithNoHead(backend: TestBackend) async throws {
        let log = try await TemporaryLog(backend: backend)
        let report = try await verify(log)
        #expect(report.isIntact)
        #expect(report.eventCount == 0 && report.head == nil)
    }

    @Test(arguments: [1, 2, 6, 7, 8, 13, 29, 30])
    func rangesCheckedInParallelFindTheFirstProblem(position: Int) async throws {
        let log = try await filled(30)
        let ranges = ChainVerifier(chain: ChainHasher(key: log.keys.chainKey), minimumRange: 7) // 5 ranges
        #expect(try await ranges.verify(log.database).isIntact)
        #expect(try await ranges.verify(log.database).head == (try await verify(log).head))
        try await tamper(log, "UPDATE events SET actor_id = 'mallory' WHERE position = \(position)")
        if position + 9 <= 30 { try await tamper(log, "DELETE FROM events WHERE position = \(position + 9)") }
        let report = try await ranges.verify(log.database)
        #expect(report.firstProblem?.position == Int64(position), "the earliest of two problems, in any range")
        #expect(report.eventCount == Int64(position - 1))
    }

    @Test(arguments: TestBackend.available) func triggersRefuseUpdateAndDelete(backend: TestBackend) async throws {
        let log = try await filled(3, backend)
        for sql in ["UPDATE events SET payload = '{}'", "DELETE FROM events"] {
            let refused = await #expect(throws: (any Error).self) { try await log.database.write { try $0.execute(sql: sql) } }
            #expect("\(refused.map { String(describing: $0) } ?? "")".contains("append-only"))
        }
        if backend == .postgres {
            await #expect(throws: (any Error).self) { try await log.database.write { try $0.execute(sql: "TRUNCATE events") } }
        }
        #expect(try await verify(log).eventCount == 3)
    }

    @Test(arguments: TestBackend.available) func anEditedPayloadIsFoundAtItsPosition(backend: TestBackend) async throws {
        let log = try await filled(10, backend)
        try await tamper(log, #"UPDATE events SET payload = '{"n":99}' WHERE position = 6"#)
        #expect(try await verify(log).firstProblem?.position == 6)
    }

    @Test(arguments: TestBackend.available) func anEditedHashBreaksTheNextLink(backend: TestBackend) async throws {
        let log = try await filled(10, backend)
        try await tamper(log, "UPDATE events SET hash = ? WHERE position = 4", [Data(count: 32)])
        #expect(try await verify(log).firstProblem?.position == 4)
    }

    @Test(arguments: TestBackend.available) func aDeletedRowIsFound(backend: TestBackend) async throws {
        let log = try await filled(10, backend)
        try await tamper(log, "DELETE FROM events WHERE position = 3")
        let problem = try #require(try await verify(log).firstProblem)
        #expect(problem.position == 3)
        #expect(problem.reason.contains("missing"))
    }

    @Test(arguments: TestBackend.available) func swappedRowsAreFound(backend: TestBackend) async throws {
        let log = try await filled(10, backend)
        try await tamper(log, """
            UPDATE events SET position = 1000000 WHERE position = 7;
            UPDATE events SET position = 7 WHERE position = 8;
            UPDATE events SET position = 8 WHERE position = 1000000;
            """)
        #expect(try await verify(log).firstProblem?.position == 7)
    }

    @Test(arguments: TestBackend.available) func anInsertedRowIsFound(backend: TestBackend) async throws {
        let log = try await filled(5, backend)
        try await tamper(log, """
            INSERT INTO events SELECT 6, stream_id, 99, 'forged-id', event_type, schema_version, recorded_at, actor_id,
                   actor_role, project_id, correlation_id, causation_id, payload, hash FROM events WHERE position = 5
            """)
        #expect(try await verify(log).firstProblem?.position == 6)
    }

    @Test(arguments: TestBackend.available) func aTruncatedLogIsCaughtByTheExpectedHead(backend: TestBackend) async throws {
        let log = try await filled(8, backend)
        let head = try #require(try await verify(log).head)
        try await tamper(log, "DELETE FROM events WHERE position > 5")
        #expect(try await verify(log).isIntact, "a clean cut is invisible without a remembered head")
        let report = try await verify(log, expecting: head)
        #expect(report.firstProblem?.position == 6)
        #expect(ChainHeadReference(head.description) == head)
    }

    @Test(arguments: TestBackend.available) func aLogRewrittenAfterTheHeadIsCaught(backend: TestBackend) async throws {
        let log = try await filled(8, backend)
        let head = try #require(try await verify(log).head)
        let other = try await filled(8, backend) // same shape, different keys and ids: a different history
        let foreignHead = try #require(try await verify(other).head)
        #expect(try await verify(log, expecting: foreignHead).firstProblem?.position == 8)
        #expect(try await verify(log, expecting: head).isIntact)
    }

    @Test(arguments: TestBackend.available) func concurrentAppendsNeverForkTheChain(backend: TestBackend) async throws {
        let log = try await TemporaryLog(backend: backend)
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
        let report = try await verify(log)
        #expect(report.isIntact)
        #expect(report.eventCount == 320)
    }

    @Test(arguments: TestBackend.available) func aChainKeyFromAnotherDatabaseDoesNotVerify(backend: TestBackend) async throws {
        let log = try await filled(3, backend)
        let stranger = try await TemporaryLog(backend: backend)
        let report = try await ChainVerifier(chain: ChainHasher(key: stranger.keys.chainKey)).verify(log.database)
        #expect(report.firstProblem?.position == 1)
    }
}

