import ArgumentParser
import CredlogDomain
import CredlogEvents
import CredlogProjections
import Foundation

struct ConnectionGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connection", abstract: "Create and change connections.",
        subcommands: [Create.self, Show.self, History.self, Rename.self, Reconnect.self, Expire.self, Revoke.self, Delete.self, Replace.self, Check.self, Credentials.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a connection; prints its id.",
            discussion: """
                Credentials by auth type: api-key {"apiKey"}; oauth2 {"accessToken", "refreshToken"?, \
                "expiresAt"?, "scopes"?}; basic {"username", "password"}; custom: any string fields.
                """)
        @Option(help: "The project id.") var project: String
        @Option(help: "The piece (provider) it authorises, such as gmail.") var piece: String
        @Option(help: "How it authenticates; fixes the credential fields.") var auth: AuthType
        @Option(help: "Its display name.") var name: String
        @OptionGroup var credentials: CredentialsInput
        @OptionGroup var options: GlobalOptions
        @OptionGroup var command: CommandOptions

        func run() async throws {
            let workspace = try await Workspace.open(options)
            var secret = credentials.read()
            let outcome = try await workspace.service.createConnection(
                projectId: project, piece: piece, authType: auth, name: name, credentials: &secret,
                context: try workspace.context(options, command))
            let id = outcome.stream.connectionId ?? outcome.stream.rawValue
            if options.json {
                try Output.json(["connectionId": id])
            } else {
                Output.line(id)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a connection as it is now, or as it was at a moment (time travel).")
        @Argument(help: "The connection id.") var id: String
        @Option(help: "As it was at this time (ISO 8601, such as 2026-11-21T10:05:00Z).") var at: Timestamp?
        @Option(help: "As it was once the log reached this position.") var atPosition: Int64?
        @OptionGroup var options: GlobalOptions

        func validate() throws {
            if at != nil, atPosition != nil { throw ValidationError("give --at or --at-position, not both") }
            if let atPosition, atPosition < 1 { throw ValidationError("--at-position is 1 or more") }
        }

        func run() async throws {
            let workspace = try await Workspace.open(options)
            let point: PointInTime? = at.map { .time($0) } ?? atPosition.map { .position($0) }
            let view = try await workspace.queries.connection(id, at: point, for: .init(try options.principal()))
            if options.json { return try Output.json(view) }
            Output.table(["FIELD", "VALUE"], view.rows)
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a connection's status history.")
        @Argument(help: "The connection id.") var id: String
        @OptionGroup var page: PageOptions
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let workspace = try await Workspace.open(options)
            let reader = QueryService.Reader(try options.principal())
            let history: [StatusChange]
            var next: String?
            if let limit = page.limit {
                let found = try await workspace.queries.statusHistory(of: id, limit: limit, after: page.after, for: reader)
                if options.json { return try Output.json(found) }
                (history, next) = (found.changes, found.nextCursor)
            } else {
                history = try await workspace.queries.statusHistory(of: id, for: reader)
                if options.json { return try Output.json(history) }
            }
            Output.table(["POS", "AT", "FROM", "TO", "REASON", "BY"], history.map {
                [String($0.position), Output.time($0.at), $0.fromStatus?.rawValue ?? "-", $0.toStatus.rawValue, $0.reason ?? "", "\($0.actorId) (\($0.actorRole))"]
            })
            PageOptions.announce(next: next)
        }
    }

    struct Rename: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Rename a connection (admins only).")
        @Argument(help: "The connection id.") var id: String
        @Option(help: "The new name.") var name: String
        @OptionGroup var options: GlobalOptions
        @OptionGroup var command: CommandOptions

        func run() async throws {
            try await options.execute(command, done: "renamed \(id)",
                                      unchanged: "\(id) already has that name") { service, context in
                try await service.rename(id, to: name, context: context)
            }
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recheck a connection: ask its provider whether the credential still works (admins only).",
            discussion: """
                Runs the piece's validation request (an OAuth2 token due for refresh is refreshed first). \
                A refusal makes the connection Inactive with the provider's status and reason; either way \
                the answer is recorded (connection.checked). An unreachable provider changes nothing (exit 1).
                """)
        @Argument(help: "The connection id.") var id: String
        @OptionGroup var options: GlobalOptions
        @OptionGroup var command: CommandOptions

        func run() async throws {
            let workspace = try await Workspace.open(options)
            let done = try await workspace.lifecycle().checker.check(id, context: try workspace.context(options, command))
            if options.json { return try Output.json(done.report) }
            Output.line(done.sentence + (done.passed || done.active ? "" : "; the connection is Inactive"))
        }
    }

    struct Replace: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move every flow of a connection to another of the same piece and project (admins only).",
            discussion: "One atomic append across both connections, under one correlation id: every flow moves, or none.")
        @Argument(help: "The connection whose flows move.") var id: String
        @Option(name: .customLong("with"), help: "The active connection that takes them over.") var replacement: String
        @OptionGroup var options: GlobalOptions
        @OptionGroup var command: CommandOptions

        func run() async throws {
            let workspace = try await Workspace.open(options)
            let done = try await workspace.service.replace(id, with: replacement, context: try workspace.context(options, command))
            if options.json {
                return try Output.json(ReplaceReport(source: OutcomeReport(done.source), target: OutcomeReport(done.target), flows: done.flows))
            }
            if done.source.replayed { return Output.line("replaced \(id) with \(replacement) (replayed from the first attempt)") }
            guard !done.source.changedNothing else { return Output.line("no change: no flow uses \(id)") }
            Output.line("moved \(done.flows.count) flow\(done.flows.count == 1 ? "" : "s") from \(id) to \(replacement): "
                        + done.flows.joined(separator: ", "))
        }

        struct ReplaceReport: Encodable {
            var source: OutcomeReport
            var target: OutcomeReport
            var flows: [String]
        }
    }

    struct Reconnect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give a connection new credentials and make it active (admins only).")
        @Argument(help: "The connection id.") var id: String
        @OptionGroup var credentials: CredentialsInput
        @OptionGroup var options: GlobalOptions
        @OptionGroup var command: CommandOptions

        func run() async throws {
            try await options.execute(command, done: "reconnected \(id)", unchanged: "") { service, context in
                var secret = credentials.read()
                return try await service.reconnect(id, credentials: &secret, context: context)
            }
        }
    }

    struct Expire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Mark a connection expired (system and engine only).")
        @Argument(help: "The connection id.") var id: String
        @Option(help: "Why, such as 'token expired'.") var reason: String
        @OptionGroup var options: GlobalOptions
        @OptionGroup var command: CommandOptions

        func run() async throws {
            try await options.execute(command, done: "expired \(id)",
                                      unchanged: "\(id) is already inactive") { service, context in
                try await service.expire(id, reason: reason, context: context)
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a connection (admins only).")
        @Argument(help: "The connection id.") var id: String
        @Option(help: "Why.") var reason: String
        @OptionGroup var options: GlobalOptions
        @OptionGroup var command: CommandOptions

        func run() async throws {
            try await options.execute(command, done: "revoked \(id)",
                                      unchanged: "\(id) is already revoked") { service, context in
                try await service.revoke(id, reason: reason, context: context)
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a connection and destroy its secrets for good (admins only); its history stays.")
        @Argument(help: "The connection id.") var id: String
        @OptionGroup var options: GlobalOptions
        @OptionGroup var command: CommandOptions

        func run() async throws {
            try await options.execute(command, done: "deleted \(id); its data key is destroyed",
                                      unchanged: "") { service, context in
                try await service.delete(id, context: context)
            }
        }
    }

    struct Credentials: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a connection's plaintext credentials as JSON (the engine only, as it runs a piece).",
            discussion: "An OAuth2 token that expires within 15 minutes is refreshed first.")
        @Argument(help: "The connection id.") var id: String
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let workspace = try await Workspace.open(options)
            var plaintext = try await workspace.lifecycle().broker.credentials(id, context: try workspace.context(options))
            defer { Sodium.wipe(&plaintext) }
            FileHandle.standardOutput.write(Data(plaintext + [UInt8(ascii: "\n")]))
        }
    }
}

extension AuthType: ExpressibleByArgument {}

extension Timestamp: ExpressibleByArgument {
    public init?(argument: String) { self.init(iso8601: argument) }
}
