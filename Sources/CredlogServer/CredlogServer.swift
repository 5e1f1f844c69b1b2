import CredlogLifecycle
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// `credlog serve`: the HTTP API (`/v1`, bearer tokens, JSON and problem+json), its OpenAPI
/// document, and the Connections page (sessions, HTML), on one store.
public enum CredlogServer {
    /// The routes, with their middleware: a tracing span, request metrics (route template, method, status,
    /// duration), request logging (method, path, status; never a header, so never a token),
    /// errors as problem+json, and authentication per area.
    public static func router(_ environment: ServerEnvironment) async throws -> Router<CredlogRequestContext> {
        let router = Router(context: CredlogRequestContext.self)
        // A span per request (no header recorded; the OAuth2 callback's code and state redacted),
        // exported when `serve` bootstrapped a tracer; otherwise a no-op.
        router.add(middleware: TracingMiddleware(redactingQueryParameters: ["code", "state", "error", "error_description", "iss"]))
        router.add(middleware: RequestMetrics(metrics: environment.metrics))
        router.add(middleware: RequestLogging())
        router.add(middleware: ProblemMiddleware())
        router.get("openapi.json") { _, _ in
            guard let (data, type) = Assets.file("openapi.json") else { throw HTTPError(.notFound) }
            return Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        router.get("healthz") { _, _ in "ok\n" }
        HealthRoutes(environment: environment).register(on: router)
        MetricsRoutes(environment: environment).register(on: router)
        let api = router.group("v1")
            .add(middleware: CorrelationHeader())
            .add(middleware: BearerAuthentication(environment: environment))
            .add(middleware: RefusedRequestLimit(limiter: environment.limiter))
            .add(middleware: ReadOnlyScope(environment: environment))
        let renderer = try await PageRenderer.load()
        let oauth2 = OAuth2Routes(environment: environment, renderer: renderer)
        oauth2.registerCallback(on: router)
        ConnectionRoutes(environment: environment).register(on: api)
        FlowRoutes(environment: environment).register(on: api)
        AuditRoutes(environment: environment).register(on: api)
        EventRoutes(environment: environment).register(on: api)
        PieceRoutes(environment: environment).register(on: api)
        TokenRoutes(environment: environment).register(on: api)
        oauth2.register(on: api)
        PageRoutes(environment: environment, renderer: renderer).register(on: router)
        return router
    }

    /// The application, ready to run: `try await app.runService()` serves until SIGINT or
    /// SIGTERM, then stops accepting and finishes the requests in flight.
    /// With `background`, the credential lifecycle (sweeper, webhook deliveries) runs beside the server.
    /// `limits` bound what one client may hold (connections, timeouts, header bytes).
    /// `services` run beside it and stop after it (the trace exporter).
    public static func application(_ environment: ServerEnvironment, host: String, port: Int, logger: Logger, background: Bool = true,
                                   limits: ServerLimits = ServerLimits(), services: [any Service] = [],
                                   onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in })
        async throws -> some ApplicationProtocol {
        Application(router: try await router(environment),
                    server: limits.server(),
                    configuration: limits.configuration(.hostname(host, port: port), logger: logger),
                    // A service group stops its services in reverse order: the server, then the
                    // lifecycle, then `services` — the trace exporter flushes what they traced.
                    services: services
                        + (background ? [LifecycleService(lifecycle: environment.lifecycle, store: environment.store, logger: logger)] : []),
                    onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) },
                    logger: logger)
    }
}
