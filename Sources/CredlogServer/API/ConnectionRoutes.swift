import CredlogDomain
import CredlogEvents
import CredlogProjections
import Foundation
import Hummingbird

/// `/v1/connections`: list, create, read (now or at a moment), and every change to a connection.
struct ConnectionRoutes {
    let environment: ServerEnvironment

    func register(on group: RouterGroup<CredlogRequestContext>) {
        group.get("connections", use: list)
        group.post("connections", use: create)
        group.get("connections/:id", use: show)
        group.delete("connections/:id", use: delete)
        group.post("connections/:id/rename", use: rename)
        group.post("connections/:id/reconnect", use: reconnect)
        group.post("connections/:id/expire", use: expire)
        group.post("connections/:id/revoke", use: revoke)
        group.post("connections/:id/replace", use: replace)
        group.post("connections/:id/check", use: check)
        group.get("connections/:id/history", use: history)
        group.get("connections/:id/credentials", use: credentials)
    }

    struct CreateBody: Decodable {
        var piece: String
        var authType: AuthType
        var name: String
        var credentials: JSONValue
    }
    struct RenameBody: Decodable { var name: String }
    struct ReconnectBody: Decodable { var credentials: JSONValue }
    struct ReasonBody: Decodable { var reason: String }
    struct ReplaceBody: Decodable { var with: String }

    /// What a replacement did, as the API answers it.
    struct ReplaceResult: Encodable {
        var connectionId: String
        var replacedBy: String
        /// The flows moved, in order.
        var flows: [String]
        var changed: Bool
        var replayed: Bool
        var firstPosition: Int64?
        var lastPosition: Int64?
        /// The replaced connection's version after the move (its new `ETag`).
        var streamVersion: Int64
    }

    @Sendable func list(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let query = request.uri.queryParameters
        let list = ConnectionList(
            projectId: identity.projectId,
            status: try query.enumValue("status", default: .all),
            search: query.get("search").flatMap { $0.isEmpty ? nil : $0 },
            pieces: query.list("piece"),
            owner: query.get("owner"),
            sort: try query.enumValue("sort", default: .name),
            limit: try query.integer("limit", default: 50, in: 1...ConnectionList.maxLimit),
            after: query.get("after"), now: environment.clock())
        return try JSONCoding.response(try await environment.queries.connections(list, for: identity.reader))
    }

    @Sendable func create(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        let body = try await JSONCoding.decode(CreateBody.self, from: request, context: context)
        let command = try environment.commandContext(request, context)
        var secret = try body.credentials.bytes
        let outcome = try await environment.service.createConnection(
            projectId: command.projectScope ?? "", piece: body.piece, authType: body.authType, name: body.name,
            credentials: &secret, context: command)
        return try WriteResult.response(outcome, status: .created)
    }

    @Sendable func show(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let query = request.uri.queryParameters
        var point = try query.time("at").map { PointInTime.time($0) }
        if query.get("atPosition") != nil {
            guard point == nil else { throw Problem.badRequest("give 'at' or 'atPosition', not both") }
            point = .position(Int64(try query.integer("atPosition", default: 1, in: 1...Int(Int64.max))))
        }
        let detail = try await environment.queries.connection(try context.parameters.require("id"), at: point, for: identity.reader)
        return try JSONCoding.response(detail, etag: point == nil ? etag(version: detail.streamVersion) : nil)
    }

    @Sendable func rename(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        let body = try await JSONCoding.decode(RenameBody.self, from: request, context: context)
        return try await write(request, context) { id, command in try await environment.service.rename(id, to: body.name, context: command) }
    }

    @Sendable func reconnect(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        let body = try await JSONCoding.decode(ReconnectBody.self, from: request, context: context)
        return try await write(request, context) { id, command in
            var secret = try body.credentials.bytes
            return try await environment.service.reconnect(id, credentials: &secret, context: command)
        }
    }

    @Sendable func expire(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        let body = try await JSONCoding.decode(ReasonBody.self, from: request, context: context)
        return try await write(request, context) { id, command in try await environment.service.expire(id, reason: body.reason, context: command) }
    }

    @Sendable func revoke(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        let body = try await JSONCoding.decode(ReasonBody.self, from: request, context: context)
        return try await write(request, context) { id, command in try await environment.service.revoke(id, reason: body.reason, context: command) }
    }

    /// Asks the connection's provider whether its credential still works, and records the answer.
    @Sendable func check(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let done = try await environment.lifecycle.checker.check(id, context: try environment.commandContext(request, context))
        return try JSONCoding.response(done.report, etag: etag(version: done.report.streamVersion))
    }

    /// Moves every flow of the connection to another of the same piece, atomically.
    @Sendable func replace(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        let body = try await JSONCoding.decode(ReplaceBody.self, from: request, context: context)
        let id = try context.parameters.require("id")
        let done = try await environment.service.replace(id, with: body.with, context: try environment.commandContext(request, context))
        let result = ReplaceResult(
            connectionId: id, replacedBy: body.with, flows: done.flows, changed: !done.source.changedNothing, replayed: done.source.replayed,
            firstPosition: done.source.firstPosition, lastPosition: done.target.lastPosition ?? done.source.lastPosition,
            streamVersion: done.source.streamVersion)
        return try JSONCoding.response(result, etag: etag(version: result.streamVersion))
    }

    @Sendable func delete(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        try await write(request, context) { id, command in try await environment.service.delete(id, context: command) }
    }

    @Sendable func history(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let history = try await environment.queries.statusHistory(
            of: try context.parameters.require("id"), limit: try query.integer("limit", default: 100, in: 1...StatusHistoryQuery.maxLimit),
            after: query.get("after"), for: try context.requireIdentity().reader)
        return try JSONCoding.response(history)
    }

    /// The plaintext credentials, for engine tokens only (an OAuth2 token about to expire is
    /// refreshed first); every read is kept in the audit trail.
    @Sendable func credentials(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        let command = try environment.commandContext(request, context)
        var plaintext = try await environment.lifecycle.broker.credentials(try context.parameters.require("id"), context: command)
        defer { Sodium.wipe(&plaintext) }
        return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(bytes: plaintext)))
    }

    /// Runs a command on the connection named in the path and answers with its result.
    private func write(_ request: Request, _ context: CredlogRequestContext,
                       _ body: (String, CommandContext) async throws -> CommandOutcome) async throws -> Response {
        let command = try environment.commandContext(request, context)
        let outcome = try await body(try context.parameters.require("id"), command)
        return try WriteResult.response(outcome)
    }

}
