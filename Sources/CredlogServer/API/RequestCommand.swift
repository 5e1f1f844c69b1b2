import CredlogDomain
import CredlogEvents
import HTTPTypes
import Hummingbird

extension HTTPField.Name {
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    static let correlationId = HTTPField.Name("X-Correlation-Id")!
    static let requestId = HTTPField.Name("X-Request-Id")!
    static let link = HTTPField.Name("Link")!
}

/// The ETag of a connection at a stream version.
func etag(version: Int64) -> String { "\"v\(version)\"" }

extension ServerEnvironment {
    /// The command context of an API request: the token's principal and project, the request's
    /// correlation id (or `X-Correlation-Id`), its `Idempotency-Key` (scoped to the token) and `If-Match`.
    func commandContext(_ request: Request, _ context: CredlogRequestContext) throws -> CommandContext {
        let identity = try context.requireIdentity()
        return CommandContext(
            principal: identity.principal, now: clock(),
            correlationId: request.headers[.correlationId] ?? context.id,  // checked by CorrelationHeader
            idempotencyKey: request.headers[.idempotencyKey].map { identity.token.tokenId + ":" + $0 },
            expectedVersion: try ifMatchVersion(request), projectScope: identity.projectId, via: "http")
    }

    /// The version an `If-Match: "vN"` header asks for; `nil` without one or for `*`.
    private func ifMatchVersion(_ request: Request) throws -> Int64? {
        guard let header = request.headers[.ifMatch], header != "*" else { return nil }
        guard header.hasPrefix("\"v"), header.hasSuffix("\""), header.count > 3,
              let version = Int64(header.dropFirst(2).dropLast()), version > 0 else {
            throw Problem.badRequest("If-Match takes a connection's ETag, such as \"v3\"")
        }
        return version
    }
}

/// What a write did, as the API answers it.
struct WriteResult: Encodable {
    var connectionId: String
    /// False when the command changed nothing (renaming to the same name, say).
    var changed: Bool
    /// True when an earlier request with the same `Idempotency-Key` did the work.
    var replayed: Bool
    var firstPosition: Int64?
    var lastPosition: Int64?
    /// The connection's version after the write (its new `ETag`).
    var streamVersion: Int64

    /// The response to a write: the result, with the connection's `ETag` after it.
    static func response(_ outcome: CommandOutcome, status: HTTPResponse.Status = .ok) throws -> Response {
        let id = outcome.stream.connectionId ?? outcome.stream.rawValue
        let result = WriteResult(
            connectionId: id, changed: !outcome.changedNothing, replayed: outcome.replayed,
            firstPosition: outcome.firstPosition, lastPosition: outcome.lastPosition, streamVersion: outcome.streamVersion)
        return try JSONCoding.response(result, status: status, etag: etag(version: result.streamVersion),
                                       location: status == .created ? "/v1/connections/\(id)" : nil)
    }
}
