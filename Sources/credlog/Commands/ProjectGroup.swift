import ArgumentParser
import CredlogDomain
import CredlogEvents

struct ProjectGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "project", abstract: "Create projects.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a project with its first admin (an operator action, recorded as system).")

        @Argument(help: "The project id, such as 'acme'.") var project: String
        @Option(help: "The member who becomes its first admin.") var admin: String
        @OptionGroup var options: GlobalOptions
        @OptionGroup var command: CommandOptions

        func run() async throws {
            let workspace = try await Workspace.open(options)
            let context = CommandContext(principal: .system, now: try options.now(), correlationId: command.correlationId,
                                         idempotencyKey: command.idempotencyKey)
            let outcome = try await workspace.service.createProject(project, admin: admin, context: context)
            try OutcomeReport.print(outcome, done: "created project \(project) with admin \(admin)",
                                    unchanged: "project \(project) exists", json: options.json)
        }
    }
}

struct MemberGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "member", abstract: "Manage a project's members (admins only).",
        subcommands: [Add.self, Remove.self, RoleChange.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a member to a project.")
        @Argument(help: "The member id.") var member: String
        @Option(help: "The project id.") var project: String
        @Option(help: "admin or member.") var role: Role = .member
        @OptionGroup var options: GlobalOptions
        @OptionGroup var command: CommandOptions

        func run() async throws {
            try await options.execute(command, done: "added \(member) to \(project) as \(role.rawValue)",
                                      unchanged: "\(member) is already a member") { service, context in
                try await service.addMember(member, role: role, to: project, context: context)
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a member from a project.")
        @Argument(help: "The member id.") var member: String
        @Option(help: "The project id.") var project: String
        @OptionGroup var options: GlobalOptions
        @OptionGroup var command: CommandOptions

        func run() async throws {
            try await options.execute(command, done: "removed \(member) from \(project)",
                                      unchanged: "\(member) is not a member") { service, context in
                try await service.removeMember(member, from: project, context: context)
            }
        }
    }

    struct RoleChange: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "role", abstract: "Change a member's role.")
        @Argument(help: "The member id.") var member: String
        @Option(help: "The project id.") var project: String
        @Option(help: "admin or member.") var role: Role
        @OptionGroup var options: GlobalOptions
        @OptionGroup var command: CommandOptions

        func run() async throws {
            try await options.execute(command, done: "\(member) is now \(role.rawValue) of \(project)",
                                      unchanged: "\(member) is already \(role.rawValue)") { service, context in
                try await service.changeRole(of: member, to: role, in: project, context: context)
            }
        }
    }
}

extension Role: ExpressibleByArgument {}
