import CredlogDomain
import CredlogEvents
import CredlogLifecycle
import Hummingbird

/// The OAuth2 authorization-code flow over HTTP: a member asks for a consent URL, the provider
/// sends the browser back to the callback, which answers with a small page for the popup.
struct OAuth2Routes {
    let environment: ServerEnvironment
    let renderer: PageRenderer

    /// `POST /v1/oauth2/authorize`, behind bearer authentication.
    func register(on group: RouterGroup<CredlogRequestContext>) {
        group.post("oauth2/authorize", use: authorize)
    }

    /// `GET /v1/oauth2/callback`: no token (the provider's redirect carries none); the state is the proof.
    func registerCallback(on router: Router<CredlogRequestContext>) {
        router.get("v1/oauth2/callback", use: callback)
    }

    struct AuthorizeBody: Decodable {
        var piece: String?
        var name: String?
        var connectionId: String?
    }

    @Sendable func authorize(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        guard case .member(let memberId) = identity.principal else {
            throw DomainError.forbidden("only members authorize connections; the engine does not")
        }
        let body = try await JSONCoding.decode(AuthorizeBody.self, from: request, context: context)
        let started = try await environment.lifecycle.oauth2.start(
            .init(projectId: identity.projectId, memberId: memberId, piece: body.piece, name: body.name, connectionId: body.connectionId),
            now: environment.clock())
        return try JSONCoding.response(started)
    }

    @Sendable func callback(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let page: OAuth2ResultPage
        let status: HTTPResponse.Status
        do {
            let completed = try await environment.lifecycle.oauth2.complete(
                state: query.get("state"), code: query.get("code"), error: query.get("error"),
                errorDescription: query.get("error_description"), now: environment.clock(), correlationId: context.id,
                browserBinding: request.cookies[OAuth2BindingCookie.name]?.value)
            page = OAuth2ResultPage(ok: true, title: completed.created ? "Connected" : "Reconnected",
                                    message: "The connection is ready. You can close this window.", connectionId: completed.connectionId)
            status = .ok
        } catch let failure as OAuth2Flow.Failure {
            page = OAuth2ResultPage(ok: false, title: "Not connected", message: failure.description, connectionId: nil)
            status = .badRequest
        } catch let error as DomainError {
            page = OAuth2ResultPage(ok: false, title: "Not connected", message: error.description, connectionId: nil)
            status = .unprocessableContent
        } catch {
            // Anything else (the database, the keys) is described without its text, as everywhere.
            let problem = Problem.from(error)
            context.logger.error("OAuth2 callback failed: \(type(of: error))")
            page = OAuth2ResultPage(ok: false, title: "Not connected", message: problem.detail ?? problem.title, connectionId: nil)
            status = .init(code: problem.status)
        }
        return renderer.response("oauth2-result", page, status: status)
    }
}

/// What the popup shows, and tells its opener.
struct OAuth2ResultPage: Encodable {
    var ok: Bool
    var title: String
    var message: String
    var connectionId: String?
}
