import CredlogDomain
import CredlogEvents
import CredlogProjections
import Foundation

/// The workloads, each measured on credlog and on the references.
struct Workloads {
    let sizes: Compare.Sizes
    let directory: URL
    let references: References
    var report = Report()
    /// Where credlog and a reference disagree on counts or final states.
    var mismatches: [String] = []

    /// Where the PostgreSQL columns run, if anywhere.
    let postgres: BenchPostgres?
    /// PostgreSQL's own floor for appends, measured on `postgres`'s cluster (when there is one).
    let pgbench: PgbenchFloor?

    init(sizes: Compare.Sizes, directory: URL, references: References, postgres: BenchPostgres?, pgbench: PgbenchFloor?) {
        self.sizes = sizes
        self.directory = directory
        self.references = references
        self.postgres = postgres
        self.pgbench = pgbench
    }

    /// credlog's PostgreSQL rate for `row` against pgbench with `clients` clients on the same cluster.
    mutating func addPgbenchRow(_ row: String, credlog: Double, clients: Int) async throws {
        guard let postgres, let pgbench else { return }
        let floor = try pgbench.transactionsPerSecond(database: try await postgres.newDatabase(), clients: clients)
        report.add(.init(workload: "\(row) on PostgreSQL against pgbench, \(clients) client\(clients == 1 ? "" : "s") inserting one row per transaction",
                         unit: "commands/s", credlog: credlog, raw: floor, python: nil, higherIsBetter: true,
                         target: ">= 0.5x pgbench", met: credlog >= 0.5 * floor))
        let note = "1p, 2p: the raw column is pgbench's transactions/s on the same cluster (one row of an append's size per transaction)"
        if !report.notes.contains(note) { report.notes.append(note) }
    }

    func path(_ name: String) -> String {
        let path = directory.appendingPathComponent(name).path
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        return path
    }

    func scratch(_ name: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        try? FileManager.default.removeItem(at: url)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }

    mutating func expectEqual<T: Equatable>(_ what: String, _ credlog: T, _ reference: T, _ name: String) {
        if credlog != reference { mismatches.append("\(what): credlog \(credlog), \(name) \(reference)") }
    }

    // MARK: 1. Durable appends, one command per transaction, one writer

    mutating func durableAppends() async throws {
        let commands = sizes.appendConnections * 7
        var credlogRates: [Double] = [], storeRates: [Double] = [], rawRates: [Double] = [], pythonRates: [Double] = []
        var postgresRates: [Double] = []
        for run in 0..<sizes.runs {
            if let postgres {
                let log = try await BenchLog.create(try await postgres.newDatabase())
                try await log.seed()
                let (_, seconds) = try await Statistics.time {
                    for n in 0..<sizes.appendConnections { try await log.life(n) }
                }
                postgresRates.append(Double(commands) / seconds)
                expectEqual("events after the lives on PostgreSQL", try await log.eventCount() - 2, commands, "expected")
            }
            let log = try await BenchLog.create(path("append-\(run).sqlite"))
            try await log.seed()
            let (_, seconds) = try await Statistics.time {
                for n in 0..<sizes.appendConnections { try await log.life(n) }
            }
            credlogRates.append(Double(commands) / seconds)
            expectEqual("events after the lives", try await log.eventCount() - 2, commands, "expected")
            let active = try await log.activeConnections()

            // The log alone: the same number of events, pre-encoded, one append (transaction) each.
            let bare = try await BenchLog.create(path("append-store-\(run).sqlite"), projecting: false)
            let meta = EventMetadata(actor: .member("bob", .member), projectId: "acme", correlationId: "c", causationId: "c", recordedAt: .now())
            let payload = try ConnectionEvent.attachedToFlow(.init(flowId: "flow-1")).encode()
            let (_, storeSeconds) = try await Statistics.time {
                for n in 0..<commands {
                    var event = payload
                    event.eventId = UUID()
                    _ = try await bare.store.append(AppendRequest(stream: .connection("conn_\(n / 7)"), expectedVersion: .any,
                                                                  events: [event], metadata: meta))
                }
            }
            storeRates.append(Double(commands) / storeSeconds)

            let rawRun = try references.raw(["append", path("raw-append-\(run).sqlite"), String(commands)])
            rawRates.append(Double(commands) / (rawRun.json["seconds"] as? Double ?? .nan))
            expectEqual("rows appended", commands, rawRun.json["rows"] as? Int ?? -1, "raw SQLite")

            let pythonRun = try references.eventsourcing(["append", try scratch("python-append-\(run)"), String(sizes.appendConnections)])
            pythonRates.append(Double(commands) / (pythonRun.json["seconds"] as? Double ?? .nan))
            expectEqual("events appended", commands, pythonRun.json["events"] as? Int ?? -1, "eventsourcing")
            expectEqual("active connections at the end", active, pythonRun.json["active"] as? Int ?? -1, "eventsourcing")
        }
        let credlog = Statistics.median(credlogRates), raw = Statistics.median(rawRates), python = Statistics.median(pythonRates)
        report.add(.init(workload: "1. durable appends, 1 command/txn, 1 writer", unit: "commands/s", credlog: credlog, raw: raw,
                         python: python, higherIsBetter: true, target: ">= 1.5x Python",
                         met: credlog >= 1.5 * python,
                         postgres: postgresRates.isEmpty ? nil : Statistics.median(postgresRates)))
        if !postgresRates.isEmpty { try await addPgbenchRow("1p. durable appends, 1 writer", credlog: Statistics.median(postgresRates), clients: 1) }
        let store = Statistics.median(storeRates)
        report.add(.init(workload: "1b. the log alone: 1 append/txn (no decide, seal, projections)", unit: "appends/s", credlog: store,
                         raw: raw, python: python, higherIsBetter: true, target: "(context)", met: nil))
        rawLimit = raw
    }

    /// The row of `credlog migrate` into PostgreSQL, printed after the read side's rows.
    var migration: Report.Row?

    /// The raw one-transaction-per-command SQLite limit measured in workload 1.
    var rawLimit = Double.nan

    /// Python's replay into memory, measured in workload 3 (the reference of 3b).
    var pythonReplay = Double.nan

    // MARK: 2. Durable appends under concurrency: 64 tasks

    mutating func concurrentAppends() async throws {
        var rates: [Double] = [], postgresRates: [Double] = []
        let perTask = max(1, sizes.concurrentConnections / 64)
        for run in 0..<sizes.runs {
            rates.append(try await concurrentLives(path("concurrent-\(run).sqlite"), perTask: perTask))
            if let postgres { postgresRates.append(try await concurrentLives(try await postgres.newDatabase(), perTask: perTask)) }
        }
        let credlog = Statistics.median(rates)
        report.add(.init(workload: "2. durable appends, 64 concurrent tasks (group commit)", unit: "commands/s", credlog: credlog,
                         raw: rawLimit, python: nil, higherIsBetter: true, target: ">= 1x raw 1-txn/command",
                         met: credlog >= rawLimit, postgres: postgresRates.isEmpty ? nil : Statistics.median(postgresRates)))
        if !postgresRates.isEmpty { try await addPgbenchRow("2p. durable appends, 64 tasks", credlog: Statistics.median(postgresRates), clients: 64) }
    }

    /// 64 tasks living `perTask` connection lives each on a new log at `path`; returns commands/s.
    mutating func concurrentLives(_ path: String, perTask: Int) async throws -> Double {
        let log = try await BenchLog.create(path)
        try await log.seed()
        let (_, seconds) = try await Statistics.time {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<64 {
                    group.addTask {
                        for n in 0..<perTask { try await log.life(task * perTask + n) }
                    }
                }
                try await group.waitForAll()
            }
        }
        expectEqual("events after concurrent lives on \(log.database.dialect)", try await log.eventCount() - 2, 64 * perTask * 7, "expected")
        expectEqual("active connections on \(log.database.dialect)", try await log.activeConnections(), 64 * perTask, "expected")
        return Double(64 * perTask * 7) / seconds
    }
}
