import CredlogDomain
import CredlogEvents
import CredlogLifecycle
import CredlogProjections
import Hummingbird

/// Flows starting and stopping to use connections, who uses what, and debugging a failed run.
struct FlowRoutes {
    let environment: ServerEnvironment

    func register(on group: RouterGroup<CredlogRequestContext>) {
        group.get("connections/:id/flows", use: flowsOfConnection)
        group.put("connections/:id/flows/:flow", use: attach)
        group.delete("connections/:id/flows/:flow", use: detach)
        group.get("flows/:flow/connections", use: connectionsOfFlow)
        group.get("flows/:flow/debug", use: debug)
    }

    @Sendable func attach(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        let command = try environment.commandContext(request, context)
        let outcome = try await environment.service.attach(
            flow: try context.parameters.require("flow"), to: try context.parameters.require("id"), context: command)
        return try WriteResult.response(outcome)
    }

    @Sendable func detach(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        let command = try environment.commandContext(request, context)
        let outcome = try await environment.service.detach(
            flow: try context.parameters.require("flow"), from: try context.parameters.require("id"), context: command)
        return try WriteResult.response(outcome)
    }

    /// `?limit=` (100 by default, at most 1,000) and `?after=` a flow id; `Link: <…>; rel="next"` when there are more.
    @Sendable func flowsOfConnection(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let (after, limit) = try Self.page(request)
        let uses = try await environment.queries.flows(usingConnection: id, after: after, limit: limit + 1,
                                                       for: try context.requireIdentity().reader)
        return try Self.response(uses, limit: limit, next: { "/v1/connections/\(FormEncoding.escaped(id))/flows?limit=\(limit)&after=" + FormEncoding.escaped($0.flowId) })
    }

    /// `?limit=` (100 by default, at most 1,000) and `?after=` a connection id; `Link: <…>; rel="next"` when there are more.
    @Sendable func connectionsOfFlow(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        let flow = try context.parameters.require("flow")
        let (after, limit) = try Self.page(request)
        let uses = try await environment.queries.connections(usedByFlow: flow, after: after, limit: limit + 1,
                                                             for: try context.requireIdentity().reader)
        return try Self.response(uses, limit: limit, next: { "/v1/flows/\(FormEncoding.escaped(flow))/connections?limit=\(limit)&after=" + FormEncoding.escaped($0.connectionId) })
    }

    /// The most uses in one answer.
    static let maxLimit = 1000

    /// A list's `after` (bounded like an id) and `limit`.
    private static func page(_ request: Request) throws -> (after: String?, limit: Int) {
        let query = request.uri.queryParameters
        let after = query.get("after")
        if let after, after.utf8.count > 200 { throw Problem.badRequest("'after' is an id, at most 200 bytes") }
        return (after, try query.integer("limit", default: 100, in: 1...maxLimit))
    }

    /// The first `limit` uses as a JSON array, with a `Link` to the next page when `uses` has one more.
    private static func response(_ uses: [FlowUse], limit: Int, next: (FlowUse) -> String) throws -> Response {
        var response = try JSONCoding.response(Array(uses.prefix(limit)))
        if uses.count > limit { response.headers[.link] = "<\(next(uses[limit - 1]))>; rel=\"next\"" }
        return response
    }

    /// `?at=` the time the run failed, `?window=` minutes of events around it (120 by default).
    @Sendable func debug(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let query = request.uri.queryParameters
        guard let at = try query.time("at") else { throw Problem.badRequest("'at' (the time the run failed) is required") }
        let window = try query.integer("window", default: 120, in: 0...525_600)
        let diagnosis = try await environment.queries.diagnose(flow: try context.parameters.require("flow"), at: at,
                                                               window: .seconds(window * 60), for: identity.reader)
        return try JSONCoding.response(diagnosis)
    }
}
