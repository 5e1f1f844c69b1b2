import ArgumentParser
import CredlogDomain
import CredlogProjections

struct FlowsGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flows", abstract: "Query flow usage.", subcommands: [List.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The flows using a connection now (--connection), or the connections a flow uses now (--flow).")
        @Option(help: "A connection id.") var connection: String?
        @Option(help: "A flow id.") var flow: String?
        @OptionGroup var options: GlobalOptions

        func validate() throws {
            guard (connection == nil) != (flow == nil) else { throw ValidationError("give --connection ID or --flow FLOW") }
        }

        func run() async throws {
            let workspace = try await Workspace.open(options)
            let reader = QueryService.Reader(try options.principal())
            let uses = if let connection {
                try await workspace.queries.flows(usingConnection: connection, for: reader)
            } else {
                try await workspace.queries.connections(usedByFlow: flow ?? "", for: reader)
            }
            if options.json { return try Output.json(uses) }
            Output.table(["FLOW", "CONNECTION", "NAME", "SINCE"], uses.map {
                [$0.flowId, $0.connectionId, $0.connectionName ?? "", Output.time($0.attachedAt)]
            })
        }
    }
}
