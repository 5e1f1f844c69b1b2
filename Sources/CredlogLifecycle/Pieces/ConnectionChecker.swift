import CredlogDomain
import CredlogEvents

/// Recheck: asks a connection's provider whether its current credential still works (the piece's
/// validation request; an OAuth2 token due for refresh is refreshed first) and records the answer
/// in the log — `connection.checked`, and `connection.expired` when the provider refused it.
/// A provider that cannot be asked (unreachable, a timeout) says nothing about the credential:
/// nothing is appended, and the caller gets an ``HTTPCredentialValidator/Unanswered``.
public struct ConnectionChecker: Sendable {
    let service: CommandService
    let broker: CredentialBroker
    let validator: HTTPCredentialValidator

    /// What a recheck found.
    public struct Result: Sendable, Equatable {
        public var connectionId: String
        /// The provider's answer.
        public var passed: Bool
        public var httpStatus: Int
        public var reason: String?
        /// Whether the connection is active after it (a refusal makes it inactive).
        public var active: Bool
        public var outcome: CommandOutcome
        /// Who was asked: the piece's display name.
        public var provider: String

        /// `HubSpot refused the credential (HTTP 401: Bad credentials)`, for people.
        public var sentence: String {
            "\(provider) \(passed ? "accepted" : "refused") the credential (HTTP \(httpStatus)\(reason.map { ": \($0)" } ?? ""))"
        }

        /// What the API and `connection check --json` answer.
        public var report: Report {
            Report(connectionId: connectionId, provider: provider, passed: passed, httpStatus: httpStatus, reason: reason,
                   status: active ? "active" : "inactive", firstPosition: outcome.firstPosition, lastPosition: outcome.lastPosition,
                   streamVersion: outcome.streamVersion)
        }
    }

    /// A recheck as JSON: the provider's answer, the status after it, where it was recorded.
    public struct Report: Sendable, Encodable {
        public var connectionId: String
        public var provider: String
        public var passed: Bool
        public var httpStatus: Int
        public var reason: String?
        /// `active` or `inactive` after the check.
        public var status: String
        public var firstPosition: Int64?
        public var lastPosition: Int64?
        /// The connection's version after it (its new `ETag`).
        public var streamVersion: Int64
    }

    public func check(_ id: String, context: CommandContext) async throws -> Result {
        let checkable = try await service.checkable(id, context: context)
        if checkable.connection.authType == .oauth2 {
            // credlog's own refresh (recorded as system), under the check's correlation id.
            _ = try await broker.refreshIfDue(id, force: false, context: CommandContext(
                principal: .system, now: context.now, correlationId: context.correlationId, via: context.via))
        }
        // The credential as it is now (a refresh may just have replaced it), copied out to be sent.
        guard var current = try await service.withCurrentCredential(id, { connection, plaintext in
            (connection.credentials.fingerprint, Array(plaintext))
        }) else { throw DomainError.connectionDeleted(id) }
        defer { Sodium.wipe(&current.1) }
        let answer = try await validator.ask(current.1, with: checkable.validation, piece: checkable.piece)
        let outcome = try await service.recordCheck(id, answer: .init(
            credentialFingerprint: current.0, passed: answer.accepted, httpStatus: answer.status, reason: answer.reason), context: context)
        let after = try await service.loadConnection(id).state
        return Result(connectionId: id, passed: answer.accepted, httpStatus: answer.status, reason: answer.reason,
                      active: after.connection?.status.isActive ?? false, outcome: outcome, provider: checkable.piece.displayName)
    }
}
