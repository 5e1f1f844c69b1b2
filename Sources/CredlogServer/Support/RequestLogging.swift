import Foundation
import Hummingbird
import Logging

/// Logs each request once it is answered: its method, path, status and duration in milliseconds
/// (until the response's head; a streamed body goes on after it). Never a header (so never a
/// token), and not the query of the OAuth2 callback, which carries the authorization code and state.
struct RequestLogging<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // The one path whose query is never logged.
        let path = request.uri.path == "/v1/oauth2/callback" && request.uri.query != nil
            ? request.uri.path + "?…" : request.uri.description
        let start = ContinuousClock.now
        func log(_ status: Int) {
            let elapsed = ContinuousClock.now - start
            let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
            context.logger.info("Request", metadata: [
                "hb.request.path": .string(path), "hb.request.method": .string(request.method.rawValue),
                "hb.response.status": .stringConvertible(status),
                "credlog.duration_ms": .string(String(format: "%.2f", milliseconds)),
            ])
        }
        do {
            let response = try await next(request, context)
            log(response.status.code)
            return response
        } catch {
            log(Problem.from(error).status)
            throw error
        }
    }
}
