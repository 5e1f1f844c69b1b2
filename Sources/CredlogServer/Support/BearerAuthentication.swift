import Foundation
import Hummingbird

/// Reads `Authorization: Bearer <token>` and sets the request's identity; a request without
/// a valid token goes no further (401). The token itself is never logged. An address that
/// presented too many invalid tokens lately is answered 429 without a look at the token.
struct BearerAuthentication: RouterMiddleware {
    let environment: ServerEnvironment

    func handle(_ request: Request, context: CredlogRequestContext,
                next: (Request, CredlogRequestContext) async throws -> Response) async throws -> Response {
        let limiter = environment.limiter
        let client = "address:" + context.clientAddress
        if let wait = await limiter.wait(client, rule: limiter.signIns) { return RefusalLimiter.tooMany(wait, what: "invalid tokens") }
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer "),
              let identity = try await environment.identity(presenting: header.dropFirst(7).trimmingCharacters(in: .whitespaces)) else {
            if request.headers[.authorization] != nil { await limiter.refused(client, rule: limiter.signIns) }
            throw Problem.unauthorized
        }
        var context = context
        context.identity = identity
        context.logger[metadataKey: "credlog.token"] = "\(identity.token.tokenId)"
        return try await next(request, context)
    }
}
