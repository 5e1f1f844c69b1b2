import Hummingbird

/// Answers every API request with the correlation id its events carry (`X-Correlation-Id`
/// as sent, or the request id), so a client can find its writes in the log and the audit trail.
struct CorrelationHeader<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.correlationId] = request.headers[.correlationId] ?? context.id
        return response
    }
}
