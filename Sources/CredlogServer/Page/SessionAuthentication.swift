import Foundation
import CredlogEvents
import Hummingbird

/// The session cookie of the Connections page: `HttpOnly` (no script reads it) and
/// `SameSite=Strict` (no other site's form or link sends it).
enum SessionCookie {
    static let name = "credlog_session"

    static func set(_ id: String) -> Cookie {
        Cookie(name: name, value: id, maxAge: 8 * 3600, path: "/", httpOnly: true, sameSite: .strict)
    }

    static let clear = Cookie(name: name, value: "", maxAge: 0, path: "/", httpOnly: true, sameSite: .strict)
}

/// Resolves the session of a page request; without a live one, the browser goes to sign in.
/// A session ends with its token: a revoked token signs its browsers out.
struct SessionAuthentication: RouterMiddleware {
    let environment: ServerEnvironment

    func handle(_ request: Request, context: CredlogRequestContext,
                next: (Request, CredlogRequestContext) async throws -> Response) async throws -> Response {
        let id = request.cookies[SessionCookie.name]?.value
        guard let id, let session = await environment.sessions.session(id),
              try await environment.database.read({ db in try AccessTokens.isLive(session.identity.token.tokenId, db) }) else {
            if let id { await environment.sessions.close(id) }
            var response = Response(status: .seeOther, headers: [.location: "/login"])
            response.setCookie(SessionCookie.clear)
            return response
        }
        var context = context
        context.identity = session.identity
        context.session = session
        return try await next(request, context)
    }
}
