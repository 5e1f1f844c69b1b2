import Hummingbird
import Logging

/// Logs each request's method and path (Hummingbird's `LogRequestsMiddleware` fields), never a
/// header (so never a token), and not the query of the OAuth2 callback, which carries the
/// authorization code and state.
struct RequestLogging<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // The one path whose query is never logged.
        let path = request.uri.path == "/v1/oauth2/callback" && request.uri.query != nil
            ? request.uri.path + "?…" : request.uri.description
        context.logger.info("Request", metadata: ["hb.request.path": .string(path), "hb.request.method": .string(request.method.rawValue)])
        return try await next(request, context)
    }
}
