import ArgumentParser
import CredlogEvents
import CredlogProjections

struct DebugGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "debug", abstract: "Forensics on past runs.", subcommands: [Flow.self])

    struct Flow: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "For a flow run that failed at TIME: its connections then, their state, the events around, a verdict.")
        @Argument(help: "The flow id.") var flow: String
        @Option(help: "When the run failed (ISO 8601).") var at: Timestamp
        @Option(help: "Minutes of events to list before and after that time.") var window: Int = 120
        @OptionGroup var options: GlobalOptions

        func validate() throws {
            guard window >= 0 else { throw ValidationError("--window is 0 minutes or more") }
        }

        func run() async throws {
            let workspace = try await Workspace.open(options)
            let diagnosis = try await workspace.queries.diagnose(flow: flow, at: at, window: .seconds(window * 60),
                                                                 for: .init(try options.optionalPrincipal()))
            if options.json { return try Output.json(diagnosis) }
            Output.line("flow \(flow) at \(Output.time(diagnosis.at)):")
            for connection in diagnosis.connections {
                Output.line("")
                Output.line("  \(connection.name) [\(connection.connectionId)] was \(connection.status)"
                    + (connection.statusReason.map { " (\($0))" } ?? "") + " since \(Output.time(connection.statusSince)) by \(connection.statusChangedBy)")
                Output.line("  credential \(connection.credentialFingerprint) set \(Output.time(connection.credentialSetAt))")
                for event in connection.events {
                    let marker = event.at <= diagnosis.at ? " " : "+"
                    Output.line("   \(marker) \(Output.time(event.at))  #\(event.position)  \(event.type)  by \(event.actor)  \(event.detail)")
                }
            }
            Output.line("")
            Output.line("verdict: \(diagnosis.verdict)")
        }
    }
}
