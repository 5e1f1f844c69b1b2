import Hummingbird

/// Reads `Authorization: Bearer <token>` and sets the request's identity; a request without
/// a valid token goes no further (401). The token itself is never logged.
struct BearerAuthentication: RouterMiddleware {
    let environment: ServerEnvironment

    func handle(_ request: Request, context: CredlogRequestContext,
                next: (Request, CredlogRequestContext) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer "),
              let identity = try await environment.identity(presenting: String(header.dropFirst(7)).trimmingSpaces) else {
            throw Problem.unauthorized
        }
        var context = context
        context.identity = identity
        context.logger[metadataKey: "credlog.token"] = "\(identity.token.tokenId)"
        return try await next(request, context)
    }
}

extension String {
    var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
