import CredlogEvents
import CredlogTestSupport
import Dispatch
import MetricsTestKit
import Testing

/// ``MeteredDatabase`` reports a held connection as in use, and a caller behind it as waiting.
@Suite("Metered database")
struct MeteredDatabaseTests {
    @Test func aHeldWriterIsInUseAndTheNextWriterWaitsUntilItIsReleased() async throws {
        let metrics = TestMetrics()
        let log = try await TemporaryLog(metrics: metrics)
        let database = log.database
        func gauge(_ name: String, _ access: String) throws -> Double? {
            try metrics.expectGauge(name, [("access", access)]).lastValue
        }
        let release = DispatchSemaphore(value: 0)
        defer { release.signal() }  // never leave the writer blocked when an expectation fails
        let first = Task { try await database.write { _ in release.wait() } }
        try await Self.eventually { try gauge("credlog_db_connections_in_use", "write") == 1 }
        let second = Task { try await database.write { db in try db.execute(sql: "SELECT 1") } }
        try await Self.eventually { try gauge("credlog_db_waiting", "write") == 1 }
        #expect(try gauge("credlog_db_connections_in_use", "write") == 1, "one writer at a time")
        release.signal()
        try await first.value
        try await second.value
        #expect(try gauge("credlog_db_connections_in_use", "write") == 0)
        #expect(try gauge("credlog_db_waiting", "write") == 0)
        // A read that throws leaves nothing counted.
        await #expect(throws: (any Error).self) { try await database.read { db in try db.execute(sql: "SELECT * FROM no_such_table") } }
        #expect(try gauge("credlog_db_connections_in_use", "read") == 0 && gauge("credlog_db_waiting", "read") == 0)
    }

    /// Waits for `condition`, checking it as the other tasks move; fails after a minute.
    static func eventually(_ condition: () throws -> Bool) async throws {
        let clock = ContinuousClock(), deadline = clock.now + .seconds(60)
        while try !condition() {
            try #require(clock.now < deadline, "the condition never held")
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
