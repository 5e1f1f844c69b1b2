import ArgumentParser
import CredlogEvents
import CredlogProjections
import Foundation

struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Write a new database with the log up to TIME and every projection rebuilt as of then.",
        discussion: "The copy opens with the same master key; with a key file, a copy of it is written beside the new database.")
    @Option(help: "The last moment to keep (ISO 8601).") var until: Timestamp
    @Option(help: "The new database file (must not exist).") var into: String
    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let workspace = try await Workspace.open(options)
        let result = try await Replayer.replay(from: workspace.database, until: until, into: into)
        var target = options
        target.databasePath = into
        target.keyFilePath = nil
        if options.environment["CREDLOG_MASTER_KEY"] == nil {
            try KeyFile.write(workspace.keys.masterKey, to: target.keyFile)
        }
        if options.json { return try Output.json(result) }
        Output.line("replayed \(result.events) events (up to position \(result.lastPosition)) into \(into)")
    }
}
