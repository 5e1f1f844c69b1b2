import CredlogEvents

/// A connection that may be rechecked: the connection, and its piece with the request that asks
/// its provider whether the credential works.
public struct Checkable: Sendable {
    public var connection: Connection
    public var piece: PieceDefinition
    public var validation: ValidationRequest
}

extension CommandService {
    /// Authorizes a recheck of connection `id` (admins, or the system's daily recheck) and finds
    /// its piece's validation request; a refusal is recorded, as every command's is. Asking the
    /// provider is the caller's (``CredlogLifecycle``), which then records the answer with
    /// ``recordCheck(_:answer:context:)``.
    public func checkable(_ id: String, context: CommandContext) async throws -> Checkable {
        let loaded = try await loadConnectionAndProject(id, newInProject: nil, trustingCache: false)
        var caller: Caller?
        do {
            guard let projectId = loaded.projectId, context.mayReach(projectId) else { throw DomainError.notFound("connection \(id)") }
            let resolved = Caller(context.principal, in: loaded.project)
            caller = resolved
            try ConnectionDecider.authorize(.check, by: resolved, state: loaded.connection, connectionId: id)
            guard case .live(let connection) = loaded.connection else { throw DomainError.notFound("connection \(id)") }
            guard let piece = pieces.piece(connection.piece, in: loaded.project), let validation = piece.validation else {
                throw DomainError.invalid("the piece \(connection.piece) has no validation request: there is no provider to ask")
            }
            return Checkable(connection: connection, piece: piece, validation: validation)
        } catch let error as DomainError {
            try await recordRefusal(error, command: ConnectionCommand.Kind.check.auditName, caller: caller, context: context,
                                    projectId: loaded.projectId, stream: .connection(id))
            throw error
        }
    }

    /// Records a provider's answer to a recheck (``ConnectionCommand/check(_:)``): `connection.checked`,
    /// and `connection.expired` when it refused the current credential of an active connection.
    public func recordCheck(_ id: String, answer: ConnectionEvent.Check, context: CommandContext) async throws -> CommandOutcome {
        try await executeConnection(.check, id: id, context: context,
                                    digest: requestDigest(["check", id, answer.credentialFingerprint, String(answer.passed), String(answer.httpStatus)])) { _, _, _ in
            (.check(answer), nil)
        }
    }
}
