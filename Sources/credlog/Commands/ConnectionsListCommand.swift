import ArgumentParser
import CredlogDomain
import CredlogEvents
import CredlogLifecycle
import CredlogProjections

struct ConnectionsGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connections", abstract: "Query the connections table.", subcommands: [List.self, Expiring.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a project's connections: filter by status and piece, search by name, sort, paginate.",
            discussion: "A full page prints a cursor: pass it to --after for the next page.")
        @Option(help: "The project id.") var project: String
        @Option(help: "active, inactive, expiring (within 7 days, and credlog cannot renew it) or all.") var status: ConnectionList.StatusFilter = .all
        @Option(help: "A case-insensitive part of the name.") var search: String?
        @Option(help: "Only this piece's connections (repeat it for several).") var piece: [String] = []
        @Option(help: "Only the connections this member (or system, engine) created.") var owner: String?
        @Option(help: "name, connected-on (most recent first) or active-first (then by name).") var sort: ConnectionList.Sort = .name
        @Option(help: "At most this many (1 to \(ConnectionList.maxLimit)).") var limit: Int = 50
        @Option(help: "The cursor printed by the previous page.") var after: String?
        @OptionGroup var options: GlobalOptions

        func validate() throws {
            guard (1...ConnectionList.maxLimit).contains(limit) else {
                throw ValidationError("--limit is 1 to \(ConnectionList.maxLimit)")
            }
        }

        func run() async throws {
            let workspace = try await Workspace.open(options)
            let query = ConnectionList(projectId: project, status: status, search: search, pieces: piece, owner: owner, sort: sort, limit: limit,
                                       after: after, now: try options.now())
            let page = try await workspace.queries.connections(query, for: .init(try options.principal()))
            if options.json { return try Output.json(page) }
            Output.table(["ID", "PROVIDER", "NAME", "STATUS", "FLOWS", "CONNECTED ON", "OWNER"], page.connections.map {
                [$0.id, $0.piece, $0.name, $0.status == .active ? "Active" : "Inactive (\($0.statusReason ?? ""))",
                 String($0.flowCount), $0.connectedAt.iso8601Seconds, $0.createdBy]
            })
            if let next = page.nextCursor { Output.line("next page: --after \(next)") }
        }
    }
}

extension ConnectionsGroup {
    struct Expiring: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List active connections whose credential expires within a span, soonest first.",
            discussion: "OAuth2 connections with a refresh token renew themselves; the others need a person to reconnect them.")
        @Option(help: "The span: 7d, 12h, 30m.") var within: TimeSpan = TimeSpan(days: 7)
        @Option(help: "Only this project (default: every project the actor may see).") var project: String?
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let workspace = try await Workspace.open(options)
            var projects = try await workspace.queries.visibleProjects(for: .init(try options.optionalPrincipal()))
            if let project {
                guard projects?.contains(project) ?? true else { throw DomainError.notFound("project \(project)") }
                projects = [project]
            }
            let until = try options.now() + within.duration
            let rows = try await workspace.lifecycle().expiring(before: until, projects: projects)
            if options.json { return try Output.json(rows) }
            if rows.isEmpty { return Output.line("no active connection expires before \(until.iso8601)") }
            Output.table(["ID", "PROJECT", "PROVIDER", "NAME", "EXPIRES AT", "RENEWS ITSELF"], rows.map {
                [$0.id, $0.projectId, $0.piece, $0.name, Output.time($0.credentialExpiresAt), $0.renewsItself ? "yes" : "no: reconnect it"]
            })
        }
    }
}

extension TimeSpan: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
    public var defaultValueDescription: String { description }
}

extension ConnectionList.StatusFilter: ExpressibleByArgument {}
extension ConnectionList.Sort: ExpressibleByArgument {}
