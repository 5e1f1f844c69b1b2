import ArgumentParser
import CredlogEvents
import CredlogProjections
import Foundation

/// `credlog-bench profile`: credlog's part of one workload, alone (no references, no timing),
/// for an instruction count under `valgrind --tool=callgrind` (`scripts/profile` runs it at two
/// sizes and divides the difference, so that start-up cancels out).
struct Profile: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "One workload of credlog alone, for counting its instructions.",
        discussion: """
            appends: a new log at DIR/appends.sqlite, then COUNT connection lives of 7 commands, \
            each its own durable transaction (row 1). bulk-log: a log of COUNT lives (7 events each) \
            at DIR/bulk.sqlite, without projections. rebuild: every projection of DIR/bulk.sqlite \
            rebuilt from zero (row 3). replay: DIR/bulk.sqlite folded into memory (row 3b). search: \
            row 5's searches on DIR/bulk.sqlite (rebuilt first) through a new name index, which \
            reports how much resident memory the index added.
            """)

    enum Workload: String, ExpressibleByArgument, CaseIterable { case appends, bulkLog = "bulk-log", rebuild, replay, search }

    @Argument(help: "appends, bulk-log, rebuild, replay or search.") var workload: Workload
    @Option(help: "Connection lives (7 events each).") var count = 100
    @Option(help: "The directory for the database.") var work: String

    func validate() throws {
        guard (1...10_000_000).contains(count) else { throw ValidationError("--count is 1 to 10000000") }
    }

    func run() throws {
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let (workload, count, appends, bulk) = (workload, count, path("appends.sqlite"), path("bulk.sqlite"))
        try Benchmark.waitFor {
            switch workload {
            case .appends:
                Self.remove(appends)
                let log = try await BenchLog.create(appends)
                try await log.seed()
                for n in 0..<count { try await log.life(n) }
            case .bulkLog:
                Self.remove(bulk)
                let log = try await BenchLog.create(bulk, projecting: false, durability: .normal)
                _ = try await BulkLog.write(log, connections: count, start: Timestamp(iso8601: "2026-01-01T00:00:00Z")!)
            case .rebuild:
                let database = try await CredlogDatabase.open(try StoreLocation(bulk), durability: .normal, create: false)
                try await ProjectionRunner(database: database).rebuild()
            case .replay:
                let database = try await CredlogDatabase.open(try StoreLocation(bulk), durability: .normal, create: false)
                _ = try await Replay.foldEverything(database)
            case .search:
                let database = try await CredlogDatabase.open(try StoreLocation(bulk), durability: .normal, create: false)
                let before = Self.residentMiB()
                let names = NameSearchIndex()
                var found = 0
                for term in Workloads.listTerms {
                    let list = ConnectionList(projectId: "acme", status: .active, search: term, limit: 50)
                    found += try await database.read { db in try list.fetch(db, names: names) }.connections.count
                }
                let count: Int = try await database.read { try $0.fetchValue(sql: "SELECT COUNT(*) FROM connections") ?? 0 }
                FileHandle.standardError.write(Data(String(format: "name index of %d connections: %.1f MiB resident added (%d rows found)\n",
                                                           count, Self.residentMiB() - before, found).utf8))
            }
        }
    }

    /// This process's resident memory now (`/proc/self/statm`), in MiB.
    private static func residentMiB() -> Double {
        let fields = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8))?.split(separator: " ") ?? []
        return fields.count > 1 ? Double(fields[1]).map { $0 * 4096 / 1_048_576 } ?? 0 : 0
    }

    private func path(_ name: String) -> String { URL(fileURLWithPath: work).appendingPathComponent(name).path }

    private static func remove(_ path: String) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }
}
