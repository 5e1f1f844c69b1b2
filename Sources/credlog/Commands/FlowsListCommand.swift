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
            var uses: [FlowUse]
            if let connection {
                _ = try await ConnectionDetail.load(connection, at: nil, workspace: workspace, principal: try options.principal())
                uses = try await workspace.database.read { db in try FlowUsageQuery.flows(usingConnection: connection, db) }
            } else {
                let visible = try await workspace.visibleProjects(try options.principal())
                uses = try await workspace.database.read { db in try FlowUsageQuery.connections(usedByFlow: flow ?? "", db) }
                uses = uses.filter { visible?.contains($0.projectId) ?? true }
            }
            if options.json { return try Output.json(uses) }
            Output.table(["FLOW", "CONNECTION", "NAME", "SINCE"], uses.map {
                [$0.flowId, $0.connectionId, $0.connectionName ?? "", $0.attachedAt]
            })
        }
    }
}
