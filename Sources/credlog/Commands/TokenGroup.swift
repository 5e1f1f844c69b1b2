import ArgumentParser
import CredlogDomain
import CredlogEvents
import Foundation

struct TokenGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Issue and revoke the HTTP API's bearer tokens (operator actions).",
        subcommands: [Create.self, Revoke.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a token for a member of a project (or the engine); prints it once.",
            discussion: """
                Only a keyed hash of the token is stored: keep the printed token, it cannot be shown again. \
                The issue is recorded in the project's log (`project.token-issued`, by system).
                """)
        @Option(help: "The member the token acts as (with their role at each request).") var member: String?
        @Flag(help: "A token for the flow engine: the only reader of plaintext credentials.") var engine = false
        @Option(help: "The one project the token may act on.") var project: String
        @OptionGroup var options: GlobalOptions

        func validate() throws {
            guard (member == nil) == engine else { throw ValidationError("give --member MEMBER or --engine") }
        }

        func run() async throws {
            let workspace = try await Workspace.open(options)
            let issued = try await workspace.service.issueToken(kind: engine ? .engine : .member, memberId: member, in: project,
                                                                context: try options.operatorContext())
            if options.json { return try Output.json(["token": issued.token, "tokenId": issued.record.tokenId]) }
            Output.line(issued.token)
            FileHandle.standardError.write(Data("credlog: token \(issued.record.tokenId) for \(member ?? "the engine") in \(project); it is shown only this once\n".utf8))
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token: its requests and browser sessions stop at once.")
        @Argument(help: "The token id (tok_…), as `token list` shows it.") var tokenId: String
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let workspace = try await Workspace.open(options)
            guard let token = try await workspace.database.read({ db in try AccessTokens.find(tokenId, db) }),
                  token.revokedAt == nil else {
                throw DomainError.notFound("live token \(tokenId)")
            }
            _ = try await workspace.service.revokeToken(tokenId, in: token.projectId, context: try options.operatorContext())
            Output.line("revoked \(tokenId)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (ids only; the secrets are not kept).")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let workspace = try await Workspace.open(options)
            let tokens = try await workspace.database.read { db in try AccessTokens.all(db) }
            if options.json { return try Output.json(tokens) }
            Output.table(["TOKEN", "KIND", "MEMBER", "PROJECT", "CREATED", "REVOKED"], tokens.map {
                [$0.tokenId, $0.kind.rawValue, $0.memberId ?? "-", $0.projectId, Output.time($0.createdAt), $0.revokedAt.map(Output.time) ?? "-"]
            })
        }
    }
}
