import Foundation
import CredlogEvents

/// The decisions of a connection: pure, no I/O, no clock.
public enum ConnectionDecider {
    /// Checks that `caller` may see the connection and issue this kind of command.
    /// Called before any costly preparation (sealing), and again by ``decide(_:by:state:)``.
    public static func authorize(_ kind: ConnectionCommand.Kind, by caller: Caller, state: ConnectionState,
                                 connectionId: String) throws(DomainError) {
        if kind != .create, state == .none { throw DomainError.notFound("connection \(connectionId)") }
        if case .outsider = caller {
            throw DomainError.notFound(kind == .create ? "project" : "connection \(connectionId)")
        }
        if case .deleted = state { throw DomainError.connectionDeleted(connectionId) }
        if kind == .create, state != .none { throw DomainError.alreadyExists("connection \(connectionId)") }
        guard kind.allows(caller) else {
            throw DomainError.forbidden("only \(kind.whoMay) may \(kind.rawValue) a connection; \(caller.id) is \(caller.roleName)")
        }
    }

    /// Decides what happens. A command that changes nothing returns no events.
    public static func decide(_ command: ConnectionCommand, by caller: Caller, state: ConnectionState) throws(DomainError) -> [ConnectionEvent] {
        let connectionId: String
        if case .create(let create) = command { connectionId = create.connectionId } else { connectionId = state.connection?.id ?? "" }
        try authorize(command.kind, by: caller, state: state, connectionId: connectionId)

        switch command {
        case .create(let create):
            return [.created(.init(
                connectionId: create.connectionId, projectId: try Identifier.project(create.projectId),
                piece: try Identifier.piece(create.piece), authType: create.credentials.authType,
                name: try ConnectionName.validate(create.name), credentials: create.credentials))]
        default:
            break
        }
        guard case .live(let connection) = state else { return [] }

        switch command {
        case .create:
            return []
        case .reconnect(let credentials):
            guard credentials.authType == connection.authType else {
                throw DomainError.invalid("this connection takes \(connection.authType.rawValue) credentials, not \(credentials.authType.rawValue)")
            }
            return [.reconnected(.init(credentials: credentials))]
        case .rename(let raw):
            let name = try ConnectionName.validate(raw)
            return name == connection.name ? [] : [.renamed(.init(from: connection.name, to: name))]
        case .expire(let raw):
            let reason = try Reason.validate(raw)
            return connection.status.isActive ? [.expired(.init(reason: reason))] : []
        case .revoke(let raw):
            let reason = try Reason.validate(raw)
            if case .inactive(let inactive) = connection.status, inactive.kind == .revoked { return [] }
            return [.revoked(.init(reason: reason))]
        case .delete:
            return [.deleted]
        case .attach(let flow):
            let flowId = try Identifier.flow(flow)
            return connection.flows.contains(flowId) ? [] : [.attachedToFlow(.init(flowId: flowId))]
        case .detach(let flow):
            let flowId = try Identifier.flow(flow)
            return connection.flows.contains(flowId) ? [.detachedFromFlow(.init(flowId: flowId))] : []
        case .refresh(let credentials, let replaced):
            guard connection.authType == .oauth2, credentials.authType == .oauth2 else {
                throw DomainError.invalid("only OAuth2 connections have tokens to refresh")
            }
            guard connection.status.isActive else {
                throw DomainError.invalid("connection \(connection.id) is inactive: it needs a reconnect, not a refresh")
            }
            // A person reconnected (or another process refreshed) meanwhile: theirs stands.
            guard connection.credentials.fingerprint == replaced else { return [] }
            return [.tokenRefreshed(.init(credentials: credentials, previousFingerprint: replaced))]
        case .reseal(let credentials):
            // The same secret under a new key: anything else would be a reconnect in disguise.
            guard credentials.fingerprint == connection.credentials.fingerprint,
                  credentials.authType == connection.credentials.authType else {
                throw DomainError.invalid("a reseal keeps the credential: its fingerprint must not change")
            }
            return credentials.keyId == connection.credentials.keyId ? [] : [.credentialsResealed(.init(credentials: credentials))]
        case .check(let answer):
            // The answer is about a credential replaced meanwhile (a reconnect, a refresh): it says nothing now.
            guard answer.credentialFingerprint == connection.credentials.fingerprint else { return [] }
            let checked = ConnectionEvent.checked(.init(credentialFingerprint: answer.credentialFingerprint, passed: answer.passed,
                                                        httpStatus: answer.httpStatus,
                                                        reason: answer.reason.map { DisplayText.reason.fitting($0) }))
            guard !answer.passed, connection.status.isActive else { return [checked] }
            let refusal = "the provider refused it on a recheck (HTTP \(answer.httpStatus)\(answer.reason.map { ": \($0)" } ?? ""))"
            return [checked, .expired(.init(reason: DisplayText.reason.fitting(refusal)))]
        case .warnExpiry(let webhookId, let daysAhead):
            // Only an active credential with an expiry, and once per credential and webhook.
            guard connection.status.isActive, let expiresAt = connection.credentials.expiresAt,
                  connection.expiryWarnings[webhookId] != connection.credentials.fingerprint else { return [] }
            return [.expiryWarned(.init(webhookId: webhookId, credentialFingerprint: connection.credentials.fingerprint,
                                        expiresAt: expiresAt, daysAhead: daysAhead))]
        }
    }
}

extension ConnectionDecider {
    /// The events that move every flow using `source` to `target`, one list per stream: each
    /// flow is detached from `source` and attached to `target` (unless it already uses it).
    /// Both must be live connections of the same project and piece, and `target` active, so
    /// that no flow is moved onto a credential that cannot run it. Nothing to move: no events.
    public static func replace(_ source: ConnectionState, with target: ConnectionState, by caller: Caller,
                               ids: (source: String, target: String)) throws(DomainError)
        -> (source: [ConnectionEvent], target: [ConnectionEvent]) {
        try authorize(.replace, by: caller, state: source, connectionId: ids.source)
        try authorize(.replace, by: caller, state: target, connectionId: ids.target)
        guard case .live(let from) = source, case .live(let to) = target else { return ([], []) }
        guard ids.source != ids.target else { throw DomainError.invalid("a connection cannot replace itself") }
        guard from.projectId == to.projectId else { throw DomainError.notFound("connection \(ids.target)") }
        guard from.piece == to.piece else {
            throw DomainError.invalid("connection \(ids.target) is for \(to.piece); the flows of \(ids.source) need \(from.piece)")
        }
        guard to.status.isActive else {
            throw DomainError.invalid("connection \(ids.target) is inactive: reconnect it before moving flows to it")
        }
        let moving = from.flows.sorted()
        return (moving.map { .detachedFromFlow(.init(flowId: $0)) },
                moving.filter { !to.flows.contains($0) }.map { .attachedToFlow(.init(flowId: $0)) })
    }
}

/// The rules for a free-text reason (expiry, revocation): ``DisplayText/reason``.
enum Reason {
    static func validate(_ raw: String) throws(DomainError) -> String {
        do { return try DisplayText.reason.validate(raw) } catch {
            // "the reason is empty" reads as a rule; asking reads better.
            if raw.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw DomainError.invalid("give a reason") }
            throw error
        }
    }
}
