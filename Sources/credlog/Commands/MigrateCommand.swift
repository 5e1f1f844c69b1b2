import ArgumentParser
import CredlogEvents
import CredlogProjections
import Foundation

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Copy a log into a new database (SQLite or PostgreSQL), verify its chain there and rebuild its projections.",
        discussion: """
            Stop the servers writing to the source first. The copy keeps every position and hash, the keys, \
            the audit records, the API's tokens and the webhook outbox; it opens with the same master key \
            (with a key file, a copy of it is written for the new database). The target must be empty.

            Example: credlog migrate --from credlog.sqlite --to postgres://credlog@db.internal:5432/credlog
            """)

    @Option(help: ArgumentHelp("The database to copy (a SQLite file or a postgres:// URL).", valueName: "path|url"))
    var from: String
    @Option(help: ArgumentHelp("The new database (a SQLite file that does not exist, or an empty PostgreSQL database).",
                               valueName: "path|url"))
    var to: String
    @OptionGroup var options: GlobalOptions

    func run() async throws {
        var source = options
        source.databasePath = from
        let workspace = try await Workspace.open(source, catchingUp: false)
        let verifier = ChainVerifier(chain: ChainHasher(key: workspace.keys.chainKey))
        let before = try await verifier.verify(workspace.database)
        if let problem = before.firstProblem { throw CLIError.integrity("the source is damaged at \(problem): nothing copied") }

        var target = options
        target.databasePath = to
        target.keyFilePath = nil
        let location = try target.location()
        if case .sqlite(let path) = location, FileManager.default.fileExists(atPath: path) {
            throw CLIError.usage("\(path) already exists: migrate writes a new database")
        }
        let database = try await CredlogDatabase.open(location, create: true)
        let copied = try await LogCopy.copy(from: workspace.database, to: database, targetName: location.description,
                                            scope: .everything)
        let arrived = try await verifier.verify(database, expectedHead: before.head)
        if let problem = arrived.firstProblem { throw CLIError.integrity("the copy does not verify at \(problem)") }
        let after = try await verifier.verify(workspace.database)
        guard after.head == before.head else {
            throw CLIError.integrity("the source changed during the copy (head \(before.head?.description ?? "0") → "
                                     + "\(after.head?.description ?? "0")): stop its writers and migrate into a new database")
        }
        let runner = ProjectionRunner(database: database)
        try await runner.prepare()
        try await runner.catchUp(progress: ProgressBar.forTerminal(label: "rebuilding projections"))
        if options.environment["CREDLOG_MASTER_KEY"] == nil {
            try KeyFile.write(workspace.keys.masterKey, to: target.keyFile)
        }
        if options.json {
            return try Output.json(MigrateView(from: try source.location().description, to: location.description,
                                               events: copied.events, head: arrived.head?.description, rows: copied.rows,
                                               keyFile: options.environment["CREDLOG_MASTER_KEY"] == nil ? target.keyFile : nil))
        }
        Output.line("migrated \(copied.events) events to \(location); chain verified there (head \(arrived.head?.description ?? "0")); "
                    + "projections rebuilt")
    }
}

private struct MigrateView: Encodable {
    var from: String
    var to: String
    var events: Int64
    var head: String?
    var rows: [String: Int]
    var keyFile: String?
}
