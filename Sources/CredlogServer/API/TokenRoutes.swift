import CredlogDomain
import CredlogEvents
import CredlogProjections
import Hummingbird

/// The project's API tokens: admins list, issue, rotate and revoke them; anyone else sees their
/// own. A token's secret is in the answer to its issue or rotation only, never stored
/// (`Cache-Control: no-store`). Engine tokens stay the operator's (`credlog token`): they read
/// plaintext credentials.
struct TokenRoutes {
    let environment: ServerEnvironment

    func register(on group: RouterGroup<CredlogRequestContext>) {
        group.get("tokens", use: list)
        group.post("tokens", use: issue)
        group.post("tokens/:id/rotate", use: rotate)
        group.delete("tokens/:id", use: revoke)
    }

    struct IssueBody: Decodable {
        /// The member the token acts as.
        var memberId: String
        var scope: AccessToken.Scope?
        /// `90d`, `12h`, `30m`; 90 days when absent, at most 365.
        var expiresIn: String?
    }

    struct RotateBody: Decodable {
        /// How long the former secret stays valid: `1h` when absent, at most `7d`; `0m` ends it at once.
        var grace: String?
    }

    /// A token's secret, shown once, and its details.
    struct IssuedToken: Encodable {
        var token: String
        var details: AccessToken
    }

    /// Admins see every token of the project; others their own.
    @Sendable func list(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let caller = try await environment.service.caller(identity.principal, in: identity.projectId)
        if case .outsider = caller { throw DomainError.notFound("project \(identity.projectId)") }
        let tokens = try await environment.database.read { db in try AccessTokens.all(in: identity.projectId, db) }
        let visible = if case .member(_, .admin) = caller { tokens } else { tokens.filter { $0.kind == identity.token.kind && $0.memberId == identity.token.memberId } }
        return try JSONCoding.response(visible)
    }

    @Sendable func issue(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        let body = try await JSONCoding.decode(IssueBody.self, from: request, context: context)
        let command = try environment.commandContext(request, context)
        let lifetime = try body.expiresIn.map(Self.span) ?? TimeSpan(seconds: TokenRules.defaultAdminLifetime.components.seconds)
        let issued = try await environment.service.issueToken(kind: .member, memberId: body.memberId, scope: body.scope ?? .full,
                                                              expiresAt: command.now + lifetime.duration,
                                                              in: command.projectScope ?? "", context: command)
        return try Self.secretResponse(IssuedToken(token: issued.token, details: issued.record), status: .created,
                                       location: "/v1/tokens/\(issued.record.tokenId)")
    }

    @Sendable func rotate(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        let body = try await JSONCoding.decode(RotateBody.self, from: request, context: context)
        let command = try environment.commandContext(request, context)
        let tokenId = try context.parameters.require("id")
        let grace = try body.grace.map(Self.span)?.duration ?? TokenRules.defaultGrace
        let token = try await environment.service.rotateToken(tokenId, grace: grace, in: command.projectScope ?? "", context: command)
        guard let record = try await environment.database.read({ db in try AccessTokens.find(tokenId, db) }) else {
            throw DomainError.notFound("live token \(tokenId)")
        }
        return try Self.secretResponse(IssuedToken(token: token, details: record))
    }

    @Sendable func revoke(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        let command = try environment.commandContext(request, context)
        let tokenId = try context.parameters.require("id")
        _ = try await environment.service.revokeToken(tokenId, in: command.projectScope ?? "", context: command)
        return Response(status: .noContent)
    }

    /// A lifetime or grace written `90d`, `12h`, `30m` (the rules bound it).
    private static func span(_ text: String) throws -> TimeSpan {
        guard let span = TimeSpan(text) else { throw Problem(.unprocessableContent, "a span is written 90d, 12h or 30m") }
        return span
    }

    /// A response that holds a secret: never kept by a cache.
    private static func secretResponse(_ value: IssuedToken, status: HTTPResponse.Status = .ok, location: String? = nil) throws -> Response {
        var response = try JSONCoding.response(value, status: status, location: location)
        response.headers[.cacheControl] = "no-store"
        return response
    }
}
