import CredlogDomain
import CredlogLifecycle
import CredlogEvents
import Foundation
import Hummingbird
import Logging

/// An error response in the RFC 9457 `application/problem+json` format.
public struct Problem: Error, Encodable, Sendable {
    public var type: String = "about:blank"
    public var title: String
    public var status: Int
    public var detail: String?
    /// The connection's version now, on a conflict or a stale `If-Match`.
    public var currentVersion: Int64?

    init(_ status: HTTPResponse.Status, _ detail: String? = nil, currentVersion: Int64? = nil) {
        self.title = status.reasonPhrase
        self.status = status.code
        self.detail = detail
        self.currentVersion = currentVersion
    }

    static let unauthorized = Problem(.unauthorized, "send a valid token: Authorization: Bearer clt_…")

    static func badRequest(_ detail: String) -> Problem { Problem(.badRequest, detail) }

    /// The problem a thrown error stands for. Messages of credlog's own errors never hold a
    /// secret; anything else (SQLite, the file system) is reported without its text.
    static func from(_ error: any Error) -> Problem {
        switch error {
        case let problem as Problem: return problem
        case let error as DomainError:
            switch error {
            case .notFound: return Problem(.notFound, error.description)
            case .forbidden: return Problem(.forbidden, error.description)
            case .invalid: return Problem(.unprocessableContent, error.description)
            case .alreadyExists, .connectionDeleted: return Problem(.conflict, error.description)
            }
        case let mismatch as VersionMismatch:
            return Problem(.preconditionFailed, mismatch.description, currentVersion: mismatch.current)
        case let error as StoreError:
            switch error {
            case .wrongExpectedVersion(_, _, let actual):
                return Problem(.conflict, error.description, currentVersion: actual)
            case .idempotencyKeyReused:
                return Problem(.unprocessableContent, "this Idempotency-Key was used for another request")
            case .emptyAppend: return Problem(.unprocessableContent, error.description)
            case .notInitialised: return Problem(.internalServerError, "the database is not initialised")
            case .badLocation, .newerSchema: return Problem(.internalServerError, "the database cannot be used")
            case .database(let sqlState, _):
                // Lost connection (08…), server shutting down (57P…), disk full or out of resources
                // (53…), an I/O error (58…), a busy lock (55P03): worth a retry.
                return ["08", "57P", "53", "58", "55P03"].contains(where: sqlState.hasPrefix)
                    ? Problem(.serviceUnavailable, "the database is unavailable; retry shortly")
                    : Problem(.internalServerError, "the database refused the request")
            }
        case let inactive as ConnectionInactive:
            return Problem(.conflict, inactive.description)
        case let failure as OAuth2Flow.Failure:
            return Problem(.badRequest, failure.description)
        case let error as KeyError:
            if case .dataKeyShredded = error { return Problem(.conflict, error.description) }
            return Problem(.internalServerError, "the keyring cannot be used")
        case let error as any HTTPResponseError:
            // Hummingbird's own: no route (404), no such method (405), a body too large (413)…
            let detail = (error as? HTTPError)?.body ?? (error.status == .contentTooLarge ? "the request body is larger than 64 KiB" : nil)
            return Problem(error.status, detail)
        default:
            return Problem(.internalServerError, "unexpected error; see the server log (request id in X-Request-Id)")
        }
    }

    /// The response: the problem as JSON, with `WWW-Authenticate` on a 401 and `Retry-After` on
    /// a 503 (the database is away: clients come back, rather than hanging).
    func response() -> Response {
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        if status == 401 { headers[.wwwAuthenticate] = "Bearer" }
        if status == 503 { headers[.retryAfter] = "2" }
        let body = (try? JSONCoding.encoder.encode(self)) ?? Data(#"{"title":"error"}"#.utf8)
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// Turns every error into a problem response and logs it by kind only (never its text, which
/// a dependency may fill with data).
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let problem = Problem.from(error)
            if problem.status >= 500 {
                // The type, and for the database its own message and SQLSTATE (they name no value).
                var metadata: Logger.Metadata = ["error.type": "\(type(of: error))"]
                if case let StoreError.database(sqlState, message)? = error as? StoreError {
                    metadata["db.sqlstate"] = "\(sqlState)"
                    metadata["db.message"] = "\(message)"
                }
                context.logger.error("request failed", metadata: metadata)
            }
            var response = problem.response()
            response.headers[.init("X-Request-Id")!] = context.id
            return response
        }
    }
}
