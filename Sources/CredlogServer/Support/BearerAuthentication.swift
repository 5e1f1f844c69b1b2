import Foundation
import Hummingbird

/// Reads `Authorization: Bearer <token>` and sets the request's identity; a request without
/// a valid token goes no further (401). The token itself is never logged.
struct BearerAuthentication: RouterMiddleware {
    let environment: ServerEnvironment

    func handle(_ request: Request, context: CredlogRequestContext,
                next: (Request, CredlogRequestContext) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer "),
              let identity = try await environment.identity(presenting: header.dropFirst(7).trimmingCharacters(in: .whitespaces)) else {
            throw Problem.unauthorized
        }
        var context = context
        context.identity = identity
        context.logger[metadataKey: "credlog.token"] = "\(identity.token.tokenId)"
        return try await next(request, context)
    }
}
