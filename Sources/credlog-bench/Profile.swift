import ArgumentParser
import CredlogEvents
import CredlogProjections
import Foundation

/// `credlog-bench profile`: credlog's part of one workload, alone (no references, no timing),
/// for an instruction count under `valgrind --tool=callgrind` (`scripts/profile` runs it at two
/// sizes and divides the difference, so that start-up cancels out).
struct Profile: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "One workload of credlog alone, for counting its instructions.",
        discussion: """
            appends: a new log at DIR/appends.sqlite, then COUNT connection lives of 7 commands, \
            each its own durable transaction (row 1). bulk-log: a log of COUNT lives (7 events each) \
            at DIR/bulk.sqlite without projections, for `credlog projections rebuild` (row 3); \
            prints the environment that opens it.
            """)

    enum Workload: String, ExpressibleByArgument, CaseIterable { case appends, bulkLog = "bulk-log" }

    @Argument(help: "appends or bulk-log.") var workload: Workload
    @Option(help: "Connection lives (7 events each).") var count = 100
    @Option(help: "The directory for the database.") var work: String

    func validate() throws {
        guard (1...10_000_000).contains(count) else { throw ValidationError("--count is 1 to 10000000") }
    }

    func run() async throws {
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        switch workload {
        case .appends:
            let log = try await BenchLog.create(fresh("appends.sqlite"))
            try await log.seed()
            for n in 0..<count { try await log.life(n) }
        case .bulkLog:
            let log = try await BenchLog.create(fresh("bulk.sqlite"), projecting: false, durability: .normal)
            _ = try await BulkLog.write(log, connections: count, start: Timestamp(iso8601: "2026-01-01T00:00:00Z")!)
            print("CREDLOG_DB=\(log.path) CREDLOG_MASTER_KEY=\(log.masterKey.base64)")
        }
    }

    /// `name` in the work directory, with any earlier database of that name removed.
    private func fresh(_ name: String) -> String {
        let path = URL(fileURLWithPath: work).appendingPathComponent(name).path
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        return path
    }
}
