import ArgumentParser
import CredlogDomain
import CredlogEvents
import CredlogProjections
import Foundation

struct TokenGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Issue, rotate and revoke the HTTP API's bearer tokens (operator actions).",
        subcommands: [Create.self, Rotate.self, Revoke.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a token for a member of a project (or the engine); prints it once.",
            discussion: """
                Only a keyed hash of the token is stored: keep the printed token, it cannot be shown again. \
                The issue is recorded in the project's log (`project.token-issued`, by system). \
                A read-only token (--scope read) reads and follows the feed and nothing else: for reports and dashboards.
                """)
        @Option(help: "The member the token acts as (with their role at each request).") var member: String?
        @Flag(help: "A token for the flow engine: the only reader of plaintext credentials.") var engine = false
        @Option(help: "The one project the token may act on.") var project: String
        @Option(help: "full, or read: reads and the feed only (never a write, never credentials).") var scope: AccessToken.Scope = .full
        @Option(help: "How long the token works, such as 90d, 12h or 30m (at most 3650d; without it, until revoked).")
        var expiresIn: TimeSpan?
        @OptionGroup var options: GlobalOptions

        func validate() throws {
            guard (member == nil) == engine else { throw ValidationError("give --member MEMBER or --engine") }
            if let expiresIn, expiresIn.microseconds <= 0 { throw ValidationError("--expires-in is a span such as 90d, 12h or 30m") }
        }

        func run() async throws {
            let workspace = try await Workspace.open(options)
            let context = try options.operatorContext()
            let issued = try await workspace.service.issueToken(kind: engine ? .engine : .member, memberId: member, scope: scope,
                                                                expiresAt: expiresIn.map { context.now + $0.duration },
                                                                in: project, context: context)
            if options.json { return try Output.json(["token": issued.token, "tokenId": issued.record.tokenId]) }
            Output.line(issued.token)
            let expiry = issued.record.expiresAt.map { ", until \(Output.time($0))" } ?? ""
            FileHandle.standardError.write(Data("credlog: token \(issued.record.tokenId) (\(scope.rawValue)\(expiry)) for \(member ?? "the engine") in \(project); it is shown only this once\n".utf8))
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give a token a new secret (printed once); the former one works for a grace period.")
        @Argument(help: "The token id (tok_…), as `token list` shows it.") var tokenId: String
        @Option(help: "How long the former secret keeps working, such as 1h (0m ends it now; at most 7d).") var grace = TimeSpan(seconds: 3600)
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let workspace = try await Workspace.open(options)
            let token = try await TokenGroup.liveToken(tokenId, workspace)
            let secret = try await workspace.service.rotateToken(tokenId, grace: grace.duration, in: token.projectId,
                                                                 context: try options.operatorContext())
            if options.json { return try Output.json(["token": secret, "tokenId": tokenId]) }
            Output.line(secret)
            FileHandle.standardError.write(Data("credlog: token \(tokenId) rotated; the former secret works for \(grace) more; the new one is shown only this once\n".utf8))
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token: its requests and browser sessions stop at once.")
        @Argument(help: "The token id (tok_…), as `token list` shows it.") var tokenId: String
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let workspace = try await Workspace.open(options)
            let token = try await TokenGroup.liveToken(tokenId, workspace)
            _ = try await workspace.service.revokeToken(tokenId, in: token.projectId, context: try options.operatorContext())
            Output.line("revoked \(tokenId)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens, with their scope, expiry and last use (the secrets are not kept).")
        @Option(help: "Only this project's tokens.") var project: String?
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let workspace = try await Workspace.open(options)
            let tokens = try await workspace.database.read { db in try AccessTokens.all(in: project, db) }
            if options.json { return try Output.json(tokens) }
            Output.table(["TOKEN", "KIND", "MEMBER", "PROJECT", "SCOPE", "CREATED", "EXPIRES", "LAST USED", "REVOKED"], tokens.map {
                [$0.tokenId, $0.kind.rawValue, $0.memberId ?? "-", $0.projectId, $0.scope.rawValue, Output.time($0.createdAt),
                 $0.expiresAt.map(Output.time) ?? "never", $0.lastUsedAt.map(Output.time) ?? "-", $0.revokedAt.map(Output.time) ?? "-"]
            })
        }
    }

    /// The live token `tokenId`, or a not-found error.
    static func liveToken(_ tokenId: String, _ workspace: Workspace) async throws -> AccessToken {
        guard let token = try await workspace.database.read({ db in try AccessTokens.find(tokenId, db) }), token.revokedAt == nil else {
            throw DomainError.notFound("live token \(tokenId)")
        }
        return token
    }
}

extension AccessToken.Scope: ExpressibleByArgument {}
