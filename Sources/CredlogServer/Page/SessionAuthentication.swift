import Foundation
import CredlogEvents
import Hummingbird

/// The session cookie of the Connections page: `HttpOnly` (no script reads it) and
/// `SameSite=Strict` (no other site's form or link sends it).
enum SessionCookie {
    static let name = "credlog_session"

    static func set(_ id: String) -> String {
        "\(name)=\(id); Path=/; HttpOnly; SameSite=Strict; Max-Age=28800"
    }

    static let clear = "\(name)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"

    /// The session id the request carries.
    static func value(in request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name { return String(parts[1]) }
            }
        }
        return nil
    }
}

/// Resolves the session of a page request; without a live one, the browser goes to sign in.
/// A session ends with its token: a revoked token signs its browsers out.
struct SessionAuthentication: RouterMiddleware {
    let environment: ServerEnvironment

    func handle(_ request: Request, context: CredlogRequestContext,
                next: (Request, CredlogRequestContext) async throws -> Response) async throws -> Response {
        guard let id = SessionCookie.value(in: request), let session = await environment.sessions.session(id),
              try await environment.database.read({ db in try AccessTokens.isLive(session.identity.token.tokenId, db) }) else {
            if let stale = SessionCookie.value(in: request) { await environment.sessions.close(stale) }
            return Response(status: .seeOther, headers: [.location: "/login", .setCookie: SessionCookie.clear])
        }
        var context = context
        context.identity = session.identity
        context.session = session
        return try await next(request, context)
    }
}
