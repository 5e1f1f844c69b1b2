import CredlogEvents
import CredlogTestSupport
import Foundation
import GRDB
import Testing

/// An append acknowledged under `--durability full` is on disk: the connection that commits
/// syncs the WAL at every commit (`synchronous = FULL`). GRDB's pool sets its writer to `NORMAL`
/// when it enables WAL, after the connection's own set-up, so this is checked on the writer itself.
@Suite("SQLite durability")
struct DurabilityTests {
    @Test(arguments: [(Durability.full, 2), (Durability.normal, 1)])
    func theWriterCommitsWithTheChosenDurability(durability: Durability, level: Int) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("credlog-durability-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("log.sqlite").path
        for create in [true, false] {  // a new file, then the same file opened again
            let pool = try CredlogDatabase.open(path: path, durability: durability, create: create)
            let writer = try await pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
            #expect(writer == level, "created: \(create)")
            #expect(try await pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") } == "wal")
        }
    }
}
