import ArgumentParser
import CredlogProjections

struct ProjectionsGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "projections", abstract: "Inspect and rebuild the read models.", subcommands: [Status.self, Rebuild.self])

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Each projection's version, checkpoint and lag.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let workspace = try await Workspace.open(options)
            let status = try await ProjectionRunner(database: workspace.database).status()
            if options.json { return try Output.json(status) }
            Output.table(["PROJECTION", "VERSION", "CHECKPOINT", "HEAD", "LAG"], status.map {
                [$0.name, String($0.version), String($0.checkpoint), String($0.head), String($0.lag)]
            })
        }
    }

    struct Rebuild: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rebuild projections from zero, reading the log in batches (a progress bar on a terminal).")
        @Argument(help: "A projection name (default: all): \(BuiltInProjections.all.map(\.name).joined(separator: ", ")).")
        var name: String?
        @Option(help: "Events per transaction.") var batchSize: Int = 8_192
        @OptionGroup var options: GlobalOptions

        func validate() throws {
            if let name, BuiltInProjections.named(name) == nil {
                throw ValidationError("no projection '\(name)'; there are \(BuiltInProjections.all.map(\.name).joined(separator: ", "))")
            }
            guard batchSize >= 1 else { throw ValidationError("--batch-size is 1 or more") }
        }

        func run() async throws {
            let workspace = try await Workspace.open(options)
            let clock = ContinuousClock()
            let start = clock.now
            try await ProjectionRunner(database: workspace.database, batchSize: batchSize)
                .rebuild(name.map { [$0] } ?? [], progress: ProgressBar.forTerminal(label: "rebuilding"))
            let status = try await ProjectionRunner(database: workspace.database).status()
            let elapsed = clock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let position = status.first?.head ?? 0
            if options.json { return try Output.json(RebuildView(projections: name.map { [$0] } ?? BuiltInProjections.all.map(\.name),
                                                                 position: position, seconds: seconds)) }
            Output.line(String(format: "rebuilt %@ to position %lld in %.2f s", name ?? "all projections", position, seconds))
        }
    }
}

private struct RebuildView: Encodable {
    var projections: [String]
    var position: Int64
    var seconds: Double
}
