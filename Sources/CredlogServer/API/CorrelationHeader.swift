import Hummingbird

import CredlogDomain
import HTTPTypes
import Tracing

/// Answers every API request with the correlation id its events carry (`X-Correlation-Id`
/// as sent, or the request id), so a client can find its writes in the log and the audit trail;
/// the request's span carries it too (`credlog.correlation_id`).
/// One that breaks ``RequestTag``'s rules is refused (400) before anything runs, and not echoed.
struct CorrelationHeader<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        for (name, what) in [(HTTPField.Name.correlationId, "X-Correlation-Id"), (.idempotencyKey, "Idempotency-Key")] {
            if let value = request.headers[name] {
                do { _ = try RequestTag.validate(value, what: what) } catch { return Problem.badRequest(error.description).response() }
            }
        }
        let correlationId = request.headers[.correlationId] ?? context.id
        if let span = InstrumentationSystem.tracer.activeSpan(identifiedBy: ServiceContext.current ?? .topLevel) {
            span.attributes["credlog.correlation_id"] = correlationId
        }
        var response = try await next(request, context)
        response.headers[.correlationId] = correlationId
        return response
    }
}
