import ArgumentParser
import CredlogEvents
import Foundation

/// The `credlog` command: an event-sourced log of connection credentials.
@main
struct Credlog: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credlog",
        abstract: "An event-sourced, sealed, tamper-evident log of workflow connections.",
        discussion: """
            Every change to a connection is appended to a hash-chained log; secrets are sealed \
            with libsodium and appear only as fingerprints.

            Exit codes: 64 usage, 65 invalid input, 66 not found, 69 integrity failure, 75 conflict, \
            77 forbidden, 78 configuration (database or key).
            """,
        subcommands: [
            InitCommand.self, ProjectGroup.self, MemberGroup.self, ConnectionGroup.self, FlowGroup.self,
            ConnectionsGroup.self, FlowsGroup.self, AuditCommand.self, ReportCommand.self, DebugGroup.self,
            ReplayCommand.self, ProjectionsGroup.self, LogCommand.self, VerifyCommand.self, KeysGroup.self,
            TokenGroup.self, ServeCommand.self, ConfigGroup.self, PieceGroup.self, WebhookGroup.self, SweepCommand.self, MigrateCommand.self,
        ])

    /// Parses and runs a command, with crash reports that print no memory (``CrashGuard``); a
    /// failure is one line on stderr and the exit code of its category (``exit(reporting:)``).
    static func main() async {
        CrashGuard.install()
        // Whatever credlog creates (databases, their WAL and shared-memory files, key files,
        // replays and migrations) is readable by its owner only.
        umask(0o077)
        var command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withError: error)
        }
        do {
            if let asynchronous = command as? any AsyncParsableCommand {
                // The command's databases run their background work (PostgreSQL's pool) in this
                // scope. The command is run once, by this one task.
                nonisolated(unsafe) var running = asynchronous
                try await ServiceScope.run { try await running.run() }
            } else {
                try command.run()
            }
        } catch {
            exit(reporting: error)
        }
    }
}
