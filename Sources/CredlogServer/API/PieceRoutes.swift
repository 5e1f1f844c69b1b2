import CredlogEvents
import CredlogProjections
import Hummingbird

/// The pieces a project sees (built in and registered; never a client secret), and the
/// connections about to expire.
struct PieceRoutes {
    let environment: ServerEnvironment

    func register(on group: RouterGroup<CredlogRequestContext>) {
        group.get("pieces", use: pieces)
        group.get("connections-expiring", use: expiring)
    }

    @Sendable func pieces(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let project = try await environment.service.loadProject(identity.projectId).state
        return try JSONCoding.response(environment.service.pieces.pieces(in: project))
    }

    /// `?within=7d` (default), `12h`, `30m`: active connections whose credential expires by then.
    @Sendable func expiring(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let within = try request.uri.queryParameters.get("within").map { text in
            guard let span = TimeSpan(text) else { throw Problem.badRequest("'within' is a span such as 7d, 12h or 30m") }
            return span
        } ?? TimeSpan(days: 7)
        let until = environment.clock() + within.duration
        return try JSONCoding.response(try await environment.lifecycle.expiring(before: until, projects: [identity.projectId]))
    }
}
