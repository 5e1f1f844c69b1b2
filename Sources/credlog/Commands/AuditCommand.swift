import ArgumentParser
import CredlogEvents
import CredlogProjections

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "The audit trail: every event and every refused command (secrets only as fingerprints).",
        discussion: "With --as, only the projects that member belongs to.")
    @Option(help: "Only this project.") var project: String?
    @Option(help: "Only this connection.") var connection: String?
    @Option(help: "Only this actor (a member, system or engine).") var actor: String?
    @Option(help: "Only this event type (connection.renamed) or refused command (connection.rename).") var type: String?
    @Option(help: "From this time (ISO 8601).") var since: Timestamp?
    @Option(help: "Up to this time (ISO 8601).") var until: Timestamp?
    @Flag(help: "The latest entries first.") var newestFirst = false
    @OptionGroup var page: PageOptions
    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let workspace = try await Workspace.open(options)
        let query = AuditQuery(projectId: project, connectionId: connection, actorId: actor, action: type,
                               since: since?.iso8601, until: until?.iso8601, limit: page.limit, after: page.after, newestFirst: newestFirst)
        let found = try await workspace.queries.audit(query, for: .init(try options.optionalPrincipal()))
        if options.json { return page.limit == nil ? try Output.json(found.entries) : try Output.json(found) }
        Output.table(["AT", "POS", "OUTCOME", "PROJECT", "ACTOR", "ACTION", "DETAIL"], found.entries.map {
            [Output.time($0.at), $0.position.map(String.init) ?? "-", $0.outcome, $0.projectId ?? "-", "\($0.actorId) (\($0.actorRole))",
             $0.action, $0.detail]
        })
        PageOptions.announce(next: found.nextCursor)
    }
}
