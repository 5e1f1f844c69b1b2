import CredlogDomain
import CredlogEvents
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

    @Sendable func flowsOfConnection(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        let uses = try await environment.queries.flows(usingConnection: try context.parameters.require("id"),
                                                       for: try context.requireIdentity().reader)
        return try JSONCoding.response(uses)
    }

    @Sendable func connectionsOfFlow(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        let uses = try await environment.queries.connections(usedByFlow: try context.parameters.require("flow"),
                                                             for: try context.requireIdentity().reader)
        return try JSONCoding.response(uses)
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
