import ArgumentParser
import CredlogEvents
import CredlogProjections
import Foundation

/// `credlog-bench replay`: the whole log folded into memory (row 3b: what an as-of report, a
/// flow's debugging and time travel do), timed inside; prints one JSON line. Run as a child
/// process by the comparison, so that its peak memory is its own.
struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Fold a whole log into memory (row 3b); prints JSON.")

    @Option(help: "The log (a SQLite file).") var database: String

    func run() throws {
        let path = database
        try Benchmark.waitFor {
            let database = try await CredlogDatabase.open(try StoreLocation(path), durability: .normal, create: false)
            let start = ContinuousClock.now
            let models = try await Self.foldEverything(database)
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let active = models.connections.filter { $0.status == .active }.count
            // No flow is detached or connection deleted in the bulk log: the flows in use are every use.
            let flows = models.connections.reduce(0) { $0 + $1.flowCount }
            print(#"{"events": \#(models.events), "seconds": \#(seconds), "connections": \#(models.connectionCount), "active": \#(active), "flows": \#(flows)}"#)
        }
    }

    /// Every event of the log folded into the connections, as the connections report as of now does.
    static func foldEverything(_ database: any SQLDatabase) async throws -> ReadModelsAsOf {
        try await ReadModelsAsOf.fold(database, upTo: Timestamp(microseconds: .max), keeping: [])
    }
}
