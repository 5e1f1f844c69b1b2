import Foundation
import CredlogEvents
import Hummingbird

/// The session cookie of the Connections page: `HttpOnly` (no script reads it),
/// `SameSite=Strict` (no other site's form or link sends it), and `Secure` when the server is
/// reached over https (``ServerEnvironment/secureCookies``).
enum SessionCookie {
    static let name = "credlog_session"

    static func set(_ value: String, maxAge: Duration, secure: Bool) -> Cookie {
        Cookie(name: name, value: value, maxAge: Int(maxAge.components.seconds), path: "/", secure: secure, httpOnly: true, sameSite: .strict)
    }

    static func clear(secure: Bool) -> Cookie {
        Cookie(name: name, value: "", maxAge: 0, path: "/", secure: secure, httpOnly: true, sameSite: .strict)
    }
}

/// The cookie that binds an OAuth2 authorization to the browser that started it: sent only to
/// the callback, `SameSite=Lax` (the provider's redirect is a top-level navigation from another
/// site, which a `Strict` cookie would not follow), as long as an authorization lives.
enum OAuth2BindingCookie {
    static let name = "credlog_oauth2"

    static func set(_ value: String, secure: Bool) -> Cookie {
        Cookie(name: name, value: value, maxAge: 600, path: "/v1/oauth2/callback", secure: secure, httpOnly: true, sameSite: .lax)
    }
}

/// Resolves the session of a page request from the database; without a live one, the browser
/// goes to sign in. A session ends with its token: a revoked or expired token signs its
/// browsers out, on every server.
struct SessionAuthentication: RouterMiddleware {
    let environment: ServerEnvironment

    func handle(_ request: Request, context: CredlogRequestContext,
                next: (Request, CredlogRequestContext) async throws -> Response) async throws -> Response {
        let cookie = request.cookies[SessionCookie.name]?.value
        guard let cookie, let session = try await environment.sessions.session(cookie, now: environment.clock()) else {
            var response = Response(status: .seeOther, headers: [.location: "/login"])
            response.setCookie(SessionCookie.clear(secure: environment.secureCookies))
            return response
        }
        var context = context
        context.identity = session.identity
        context.session = session
        return try await next(request, context)
    }
}
