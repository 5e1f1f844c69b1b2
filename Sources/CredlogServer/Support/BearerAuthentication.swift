import CredlogDomain
import CredlogEvents
import Foundation
import Hummingbird

/// Reads `Authorization: Bearer <token>` and sets the request's identity; a request without
/// a valid token goes no further (401). A token whose secret matched but that expired or was
/// revoked is told so; anything else is "invalid", nothing more. The token itself is never
/// logged. An address that presented too many invalid tokens lately is answered 429 without a
/// look at the token.
struct BearerAuthentication: RouterMiddleware {
    let environment: ServerEnvironment

    func handle(_ request: Request, context: CredlogRequestContext,
                next: (Request, CredlogRequestContext) async throws -> Response) async throws -> Response {
        let limiter = environment.limiter
        let client = "address:" + context.clientAddress
        if let wait = await limiter.wait(client, rule: limiter.signIns) { return RefusalLimiter.tooMany(wait, what: "invalid tokens") }
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else { throw Problem.unauthorized }
        switch try await environment.authenticate(presenting: header.dropFirst(7).trimmingCharacters(in: .whitespaces)) {
        case .valid(let token):
            var context = context
            context.identity = Identity(token: token)
            context.logger[metadataKey: "credlog.token"] = "\(token.tokenId)"
            return try await next(request, context)
        case .invalid:
            await limiter.refused(client, rule: limiter.signIns)
            throw Problem.unauthorized
        case .expired(let at):
            throw Problem(.unauthorized, "this token expired at \(at); ask an admin of the project for a new one")
        case .revoked(let at):
            throw Problem(.unauthorized, "this token was revoked at \(at)")
        }
    }
}

/// Lets a read-only token (``AccessToken/Scope/read``) read and follow the feed, and nothing
/// else: any other method is refused with 403 before a handler runs, and the refusal is kept
/// in the audit trail (the route, never its ids or body). Plaintext credentials stay the
/// engine's, whose tokens are never read-only.
struct ReadOnlyScope: RouterMiddleware {
    let environment: ServerEnvironment

    func handle(_ request: Request, context: CredlogRequestContext,
                next: (Request, CredlogRequestContext) async throws -> Response) async throws -> Response {
        guard let identity = context.identity, identity.token.scope == .read,
              request.method != .get, request.method != .head else { return try await next(request, context) }
        try await ReadOnlyScope.refuse(identity, action: "\(request.method.rawValue) \(context.endpointPath ?? "(no route)")",
                                       environment: environment, correlationId: context.id)
    }

    /// Audits a read-only identity's attempt at `action` and throws the 403.
    static func refuse(_ identity: Identity, action: String, environment: ServerEnvironment, correlationId: String) async throws -> Never {
        let refusal = DomainError.forbidden("token \(identity.token.tokenId) is read-only: it reads, never writes")
        let context = CommandContext(principal: identity.principal, now: environment.clock(), correlationId: correlationId,
                                     projectScope: identity.projectId, via: "http")
        try await environment.service.recordRefusal(refusal, command: String(action.prefix(200)), context: context,
                                                    projectId: identity.projectId, stream: nil)
        throw Problem(.forbidden, "this token is read-only: it may read and follow the feed, not write")
    }
}
