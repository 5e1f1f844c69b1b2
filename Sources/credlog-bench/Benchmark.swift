import ArgumentParser
import CredlogEvents
import CredlogProjections
import Foundation
import Synchronization

/// `credlog-bench`: each workload on credlog and on the two references, in one run; prints
/// medians and ratios. With `--quick`, small sizes, and it only checks that every workload
/// runs and agrees with the references. `credlog-bench profile` runs credlog's part of one
/// workload alone, for `scripts/profile`.
@main
struct Benchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credlog-bench",
        abstract: "credlog side by side with the raw SQLite limit and the Python eventsourcing library.",
        discussion: "Run it through scripts/bench, which builds the references and passes their paths.",
        subcommands: [Compare.self, Profile.self, Replay.self], defaultSubcommand: Compare.self)

    /// Parses and runs a command. The main thread is synchronous: an async command runs on
    /// Swift's cooperative pool while it waits (``waitFor(_:)``).
    static func main() {
        do {
            let command = try parseAsRoot()
            if let asynchronous = command as? any AsyncParsableCommand {
                // The command is run once, by the one task; the main thread only waits for it.
                nonisolated(unsafe) var running = asynchronous
                try waitFor { try await ServiceScope.run { try await running.run() } }
            } else {
                var running = command
                try running.run()
            }
        } catch {
            exit(withError: error)
        }
    }

    /// Runs `work` on Swift's cooperative pool while this (the main) thread waits on a semaphore.
    /// An async main parks the main thread in libdispatch's `sigsuspend`, which valgrind 3.19
    /// cannot run in this sandbox (it stops with an internal SIGSEGV): `scripts/profile` needs this.
    static func waitFor(_ work: @escaping @Sendable () async throws -> Void) throws {
        let done = DispatchSemaphore(value: 0)
        let failure = Mutex<(any Error)?>(nil)
        Task {
            do { try await work() } catch { failure.withLock { $0 = error } }
            done.signal()
        }
        done.wait()
        if let error = failure.withLock({ $0 }) { throw error }
    }
}

/// The comparison `scripts/bench` runs.
struct Compare: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Every workload on credlog and on the references, side by side.")

    @Flag(help: "Small sizes (under a minute): check that every workload runs and agrees with the references.")
    var quick = false
    @Option(help: "The compiled raw SQLite reference (scripts/bench-references/raw_sqlite.c).") var raw: String
    @Option(help: "The Python interpreter with eventsourcing installed.") var python = "python3"
    @Option(help: "scripts/bench-references/eventsourcing_bench.py.") var pythonScript: String
    @Option(help: "The credlog executable (release build), for the rebuild's peak memory.") var credlog: String
    @Option(help: "A scratch directory (default: a new temporary one).") var work: String?
    @Option(help: "Run only these workload groups (appends, concurrent, read; export: row 9 alone), for profiling.") var only: [String] = []
    @Option(help: ArgumentHelp("A PostgreSQL server to also run the appends and the rebuild on (a new database per run).",
                               valueName: "postgres://user@host:port/db")) var postgres: String?
    @Option(help: "pgbench, for PostgreSQL's own floor under rows 1 and 2 (with --postgres).") var pgbench = "/usr/bin/pgbench"

    struct Sizes {
        var appendConnections: Int
        var concurrentConnections: Int
        var bulkConnections: Int
        var smallBulkConnections: Int
        var samples: Int
        var runs: Int

        static let quick = Sizes(appendConnections: 10, concurrentConnections: 64, bulkConnections: 1_500,
                                 smallBulkConnections: 300, samples: 200, runs: 1)
        /// 142,858 lives of 7 events: 1,000,006 events, ~143k connections.
        static let full = Sizes(appendConnections: 300, concurrentConnections: 640, bulkConnections: 142_858,
                                smallBulkConnections: 14_286, samples: 2_000, runs: 3)
    }

    func run() async throws {
        let sizes = quick ? Sizes.quick : Sizes.full
        let directory = URL(fileURLWithPath: work ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("credlog-bench-\(UUID().uuidString)").path)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { if work == nil { try? FileManager.default.removeItem(at: directory) } }
        let references = References(rawSQLite: raw, python: python, pythonScript: pythonScript, credlog: credlog)
        var workloads = Workloads(sizes: sizes, directory: directory, references: references,
                                  postgres: try postgres.map { try BenchPostgres(url: $0) },
                                  pgbench: PgbenchFloor(pgbench: pgbench, transactions: quick ? 3_200 : 32_000))
        let chosen = { (group: String) in only.isEmpty || only.contains(group) }
        if chosen("appends") { try await workloads.durableAppends() }
        if chosen("concurrent") { try await workloads.concurrentAppends() }
        if chosen("read") { try await workloads.readSide() } else if only.contains("export") { try await workloads.exportOnly() }
        workloads.report.print(header: """
            credlog-bench \(quick ? "--quick " : "")on \(ProcessInfo.processInfo.processorCount) cores, \
            \(String(format: "%.0f", Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824)) GiB, \
            \(Timestamp.now().iso8601.prefix(10)); medians of \(sizes.runs) run(s); WAL, synchronous=FULL
            """)
        if !workloads.mismatches.isEmpty {
            throw BenchError.mismatch(workloads.mismatches.joined(separator: "; "))
        }
    }
}
