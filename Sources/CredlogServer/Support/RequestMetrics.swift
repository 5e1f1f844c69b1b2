import Hummingbird

/// Counts and times each answered request in ``ServerMetrics`` by route template, method and
/// status (until the response's head, as ``RequestLogging`` does). Hummingbird's own
/// `MetricsMiddleware` records into the process's global metrics system; this one records into
/// the server's registry, so that servers in one process (tests) keep their counts apart.
struct RequestMetrics: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(_ request: Request, context: CredlogRequestContext,
                next: (Request, CredlogRequestContext) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            record(request, context, status: response.status.code, start: start)
            return response
        } catch {
            record(request, context, status: Problem.from(error).status, start: start)
            throw error
        }
    }

    private func record(_ request: Request, _ context: CredlogRequestContext, status: Int, start: ContinuousClock.Instant) {
        let route = context.endpointPath.map { $0 == "NotFound" ? "unmatched" : $0 } ?? "unmatched"
        metrics.recordRequest(route: route, method: request.method, status: status, duration: ContinuousClock.now - start)
    }
}
