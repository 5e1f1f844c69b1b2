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

    /// The problem a thrown error stands for: the status of its category. Descriptions of
    /// credlog's own errors never hold a secret, but a server fault's is not the client's business:
    /// 5xx answers carry a fixed text. Anything else (SQLite, the file system) is a 500 without its text.
    static func from(_ error: any Error) -> Problem {
        switch error {
        case let problem as Problem: return problem
        case let mismatch as VersionMismatch:
            // The answer to a stale `If-Match`.
            return Problem(.preconditionFailed, mismatch.description, currentVersion: mismatch.current)
        case let error as any CategorizedError:
            var problem = Problem(status(of: error.category), error.description)
            switch error as? StoreError {
            case .wrongExpectedVersion(_, _, let actual)?: problem.currentVersion = actual
            case .idempotencyKeyReused?: problem.detail = "this Idempotency-Key was used for another request"
            default: break
            }
            if problem.status >= 500 { problem.detail = serverFault(error) }
            return problem
        case let error as any HTTPResponseError:
            // Hummingbird's own: no route (404), no such method (405), a body too large (413)…
            let detail = (error as? HTTPError)?.body ?? (error.status == .contentTooLarge ? "the request body is larger than 64 KiB" : nil)
            return Problem(error.status, detail)
        default:
            return Problem(.internalServerError, unexpected)
        }
    }

    /// The HTTP status of each category.
    static func status(of category: ErrorCategory) -> HTTPResponse.Status {
        switch category {
        case .usage: .badRequest
        case .invalid: .unprocessableContent
        case .notFound: .notFound
        case .forbidden: .forbidden
        case .conflict: .conflict
        case .unavailable: .serviceUnavailable
        case .integrity, .configuration, .failure: .internalServerError
        }
    }

    private static let unexpected = "unexpected error; see the server log (request id in X-Request-Id)"

    /// What a 5xx says: what is wrong on the server's side, in words that quote nothing.
    private static func serverFault(_ error: any CategorizedError) -> String {
        if error is KeyError { return "the keyring cannot be used" }
        return switch error as? StoreError {
        case .notInitialised?: "the database is not initialised"
        case .badLocation?, .newerSchema?: "the database cannot be used"
        case .database?: error.category == .unavailable ? "the database is unavailable; retry shortly" : "the database refused the request"
        default: unexpected
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
