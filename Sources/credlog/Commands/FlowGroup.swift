import ArgumentParser
import CredlogDomain

struct FlowGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flow", abstract: "Record flows starting or stopping to use a connection.",
        subcommands: [Attach.self, Detach.self])

    struct Attach: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A flow starts using a connection.")
        @Argument(help: "The flow id.") var flow: String
        @Argument(help: "The connection id.") var connection: String
        @OptionGroup var options: GlobalOptions
        @OptionGroup var command: CommandOptions

        func run() async throws {
            try await options.execute(command, done: "flow \(flow) uses \(connection)",
                                      unchanged: "flow \(flow) already uses \(connection)") { service, context in
                try await service.attach(flow: flow, to: connection, context: context)
            }
        }
    }

    struct Detach: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A flow stops using a connection.")
        @Argument(help: "The flow id.") var flow: String
        @Argument(help: "The connection id.") var connection: String
        @OptionGroup var options: GlobalOptions
        @OptionGroup var command: CommandOptions

        func run() async throws {
            try await options.execute(command, done: "flow \(flow) no longer uses \(connection)",
                                      unchanged: "flow \(flow) does not use \(connection)") { service, context in
                try await service.detach(flow: flow, from: connection, context: context)
            }
        }
    }
}
