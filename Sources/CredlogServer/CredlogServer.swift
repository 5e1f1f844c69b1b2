import Foundation
import Hummingbird
import Logging

/// `credlog serve`: the HTTP API (`/v1`, bearer tokens, JSON and problem+json), its OpenAPI
/// document, and the Connections page (sessions, HTML), on one store.
public enum CredlogServer {
    /// The routes, with their middleware: request logging (method, path, status; never a header,
    /// so never a token), errors as problem+json, and authentication per area.
    public static func router(_ environment: ServerEnvironment) async throws -> Router<CredlogRequestContext> {
        let router = Router(context: CredlogRequestContext.self)
        router.add(middleware: LogRequestsMiddleware(.info))
        router.add(middleware: ProblemMiddleware())
        router.get("openapi.json") { _, _ in
            guard let (data, type) = Assets.file("openapi.json") else { throw HTTPError(.notFound) }
            return Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        router.get("healthz") { _, _ in "ok\n" }
        let api = router.group("v1")
            .add(middleware: CorrelationHeader())
            .add(middleware: BearerAuthentication(environment: environment))
        ConnectionRoutes(environment: environment).register(on: api)
        FlowRoutes(environment: environment).register(on: api)
        AuditRoutes(environment: environment).register(on: api)
        PageRoutes(environment: environment, renderer: try await PageRenderer.load()).register(on: router)
        return router
    }

    /// The application, ready to run: `try await app.runService()` serves until SIGINT or
    /// SIGTERM, then stops accepting and finishes the requests in flight.
    public static func application(_ environment: ServerEnvironment, host: String, port: Int, logger: Logger,
                                   onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in })
        async throws -> some ApplicationProtocol {
        Application(router: try await router(environment),
                    configuration: .init(address: .hostname(host, port: port), serverName: "credlog"),
                    onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) },
                    logger: logger)
    }
}
