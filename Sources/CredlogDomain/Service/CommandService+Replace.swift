import CredlogEvents

/// What a replacement did: both connections' outcomes and the flows it moved.
public struct Replacement: Sendable, Equatable {
    /// The connection the flows left (its detach events).
    public var source: CommandOutcome
    /// The connection they moved to (its attach events; none for flows that already used it).
    public var target: CommandOutcome
    /// The flows moved, in order; empty when there was none to move (or on a replay).
    public var flows: [String]
}

extension CommandService {
    /// Moves every flow using connection `id` to `replacementId` (the builder's "replace a
    /// connection in every flow"): the detach events of one stream and the attach events of the
    /// other in one atomic append (``EventStore/appendAtomically(_:)``), under one correlation
    /// id, checked against both streams' versions and the project's. Admins only.
    public func replace(_ id: String, with replacementId: String, context: CommandContext) async throws -> Replacement {
        let digest = requestDigest(["replace", id, replacementId])
        let nothing = CommandOutcome(stream: .connection(replacementId), append: nil)
        if let earlier = try await replay(context, digest: digest) { return Replacement(source: earlier, target: nothing, flows: []) }
        return try await retryingConflicts {
            // Read, not cached: a replacement is rare, and its refusals must be current.
            let loaded = try await loadConnectionAndProject(id, newInProject: nil, trustingCache: false)
            let (target, targetVersion) = try await loadConnection(replacementId)
            if let expected = context.expectedVersion, expected != loaded.version, loaded.connection.connection != nil,
               context.mayReach(loaded.projectId) {
                throw VersionMismatch(expected: expected, current: loaded.version)
            }
            var caller: Caller?
            do {
                guard let projectId = loaded.projectId, context.mayReach(projectId) else { throw DomainError.notFound("connection \(id)") }
                let resolved = Caller(context.principal, in: loaded.project)
                caller = resolved
                let events = try ConnectionDecider.replace(loaded.connection, with: target, by: resolved, ids: (id, replacementId))
                guard let actor = resolved.actor, !events.source.isEmpty else {
                    return Replacement(source: CommandOutcome(stream: .connection(id), append: nil, versionIfUnchanged: loaded.version),
                                       target: CommandOutcome(stream: .connection(replacementId), append: nil, versionIfUnchanged: targetVersion),
                                       flows: [])
                }
                let metadata = EventMetadata(actor: actor, projectId: projectId, correlationId: context.correlationId,
                                             causationId: context.commandId, recordedAt: context.now)
                var requests = [AppendRequest(
                    stream: .connection(id), expectedVersion: .exact(loaded.version), events: try events.source.map { try $0.encode() },
                    metadata: metadata, idempotency: context.idempotencyKey.map { IdempotencyToken(key: $0, requestDigest: digest) },
                    unchangedStreams: [.project(projectId): loaded.projectVersion])]
                if events.target.isEmpty {
                    requests[0].unchangedStreams[.connection(replacementId)] = targetVersion
                } else {
                    requests.append(AppendRequest(stream: .connection(replacementId), expectedVersion: .exact(targetVersion),
                                                  events: try events.target.map { try $0.encode() }, metadata: metadata))
                }
                let results = try await store.appendAtomically(requests)
                states.forget([.connection(id), .connection(replacementId)])
                return Replacement(
                    source: CommandOutcome(stream: .connection(id), append: results[0]),
                    target: results.count > 1 ? CommandOutcome(stream: .connection(replacementId), append: results[1])
                        : CommandOutcome(stream: .connection(replacementId), append: nil, versionIfUnchanged: targetVersion),
                    flows: events.source.compactMap { if case .detachedFromFlow(let link) = $0 { link.flowId } else { nil } })
            } catch let error as DomainError {
                try await recordRefusal(error, command: ConnectionCommand.Kind.replace.auditName, caller: caller, context: context,
                                        projectId: loaded.projectId, stream: .connection(id))
                throw error
            } catch {
                states.forget([.connection(id), .connection(replacementId)])
                throw error
            }
        }
    }
}
