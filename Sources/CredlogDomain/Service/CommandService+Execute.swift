import CredlogEvents
import Foundation

extension CommandService {
    /// Load, authorize, prepare, decide, append; again on a concurrency conflict.
    ///
    /// - Parameters:
    ///   - newInProject: for `create`, the project of the new connection.
    ///   - prepare: builds the command from the loaded state and version and the project;
    ///     runs only once the caller is authorized (it may seal credentials, with a new
    ///     data key to store along with the events).
    func executeConnection(_ kind: ConnectionCommand.Kind, id: String, newInProject: String? = nil,
                           context: CommandContext, digest: String,
                           prepare: (ConnectionState, Int64, ProjectState) async throws -> (ConnectionCommand, NewDataKey?))
        async throws -> CommandOutcome {
        let stream = StreamID.connection(id)
        if let earlier = try await replay(context, digest: digest) { return earlier }
        return try await traced(kind.auditName, stream: stream, context: context) { try await retryingConflicts {
            // A version the caller names (`If-Match`) is compared with the database's, never a cache's.
            var trustingCache = context.expectedVersion == nil
            while true {
                let loaded = try await loadConnectionAndProject(id, newInProject: newInProject, trustingCache: trustingCache)
                let (state, version, projectId) = (loaded.connection, loaded.version, loaded.projectId)
                let read = projectId.map { [StreamID.project($0), stream] } ?? [stream]
                if let expected = context.expectedVersion, expected != version, state.connection != nil, context.mayReach(projectId) {
                    throw VersionMismatch(expected: expected, current: version)
                }
                var caller: Caller?
                do {
                    guard let projectId, context.mayReach(projectId) else {
                        throw DomainError.notFound(newInProject == nil ? "connection \(id)" : "project \(newInProject ?? "")")
                    }
                    let resolved = Caller(context.principal, in: loaded.project)
                    caller = resolved
                    try ConnectionDecider.authorize(kind, by: resolved, state: state, connectionId: id)
                    let (command, newDataKey) = try await prepare(state, version, loaded.project)
                    let events = try ConnectionDecider.decide(command, by: resolved, state: state)
                    if events.isEmpty, loaded.fromCache {
                        // "Nothing to change" decided from cached states stands only if they were current.
                        trustingCache = false
                        continue
                    }
                    let outcome = try await append(events, to: stream, after: version, by: resolved, projectId: projectId,
                                                   context: context, digest: digest, newDataKeys: newDataKey.map { [$0] } ?? [],
                                                   unchangedStreams: [.project(projectId): loaded.projectVersion])
                    remember(events.reduce(state, ConnectionState.evolve), of: stream, after: version, outcome: outcome)
                    return outcome
                } catch let error as DomainError {
                    // A refusal decided from cached states stands only if they were current.
                    if loaded.fromCache {
                        states.forget(read)
                        trustingCache = false
                        continue
                    }
                    try await recordRefusal(error, command: kind.auditName, caller: caller, context: context,
                                            projectId: projectId, stream: stream)
                    throw error
                } catch {
                    states.forget(read)  // a conflict, or a failure that leaves the versions unknown
                    throw error
                }
            }
        } }
    }

    /// Runs a command under a span `command <name>` with its stream and correlation id, never its
    /// arguments; the append's span is its child.
    func traced<Outcome>(_ name: String, stream: StreamID, context: CommandContext,
                         _ body: () async throws -> Outcome) async throws -> Outcome {
        try await withSpanWhenTracing("command \(name)") { span in
            span?.attributes["credlog.command"] = name
            span?.attributes["credlog.stream"] = stream.rawValue
            span?.attributes["credlog.correlation_id"] = context.correlationId
            return try await body()
        }
    }

    /// Keeps the connection's state after an append of the events that made `state` from the
    /// version they were decided at; forgets it when the outcome does not say where it is now.
    private func remember(_ state: ConnectionState, of stream: StreamID, after version: Int64, outcome: CommandOutcome) {
        guard let append = outcome.append else { return }  // nothing appended: the cached state stands
        if !append.isReplay, let positions = append.positions, append.streamVersion == version + Int64(positions.count) {
            states.keep(.connection(state), version: append.streamVersion, for: stream)
        } else {
            states.forget([stream])
        }
    }

    /// The same loop for a project: members, pieces, webhooks.
    func executeMembership(_ command: MembershipCommand, projectId: String, context: CommandContext) async throws -> CommandOutcome {
        // Nothing is prepared: the decider alone authorizes (a project's creation included).
        try await executeProject(command.auditName, projectId: projectId, context: context,
                                 digest: requestDigest([command.auditName, projectId, String(describing: command)]),
                                 authorizingFirst: false) { _, _ in (command, nil) }
    }

    /// Load the project, prepare the command, decide, append. With `authorizingFirst`, only an
    /// admin of the project gets as far as `prepare` (which may seal a secret under its data key).
    func executeProject(_ auditName: String, projectId: String, context: CommandContext, digest: String, authorizingFirst: Bool = true,
                        accessTokenChanges: [AccessTokenChange] = [],
                        prepare: (ProjectState, Int64) async throws -> (MembershipCommand, NewDataKey?)) async throws -> CommandOutcome {
        let stream = StreamID.project(projectId)
        if let earlier = try await replay(context, digest: digest) { return earlier }
        return try await traced(auditName, stream: stream, context: context) { try await retryingConflicts {
            let (state, version) = try await loadProject(projectId)
            let caller = Caller(context.principal, in: state)
            do {
                guard context.mayReach(projectId) else { throw DomainError.notFound("project \(projectId)") }
                if authorizingFirst { try MembershipDecider.authorize(caller, projectId: projectId, state: state) }
                let (command, newDataKey) = try await prepare(state, version)
                let events = try MembershipDecider.decide(command, by: caller, projectId: projectId, state: state)
                return try await append(events, to: stream, after: version, by: caller, projectId: projectId,
                                        context: context, digest: digest, newDataKeys: newDataKey.map { [$0] } ?? [],
                                        accessTokenChanges: accessTokenChanges)
            } catch let error as DomainError {
                try await recordRefusal(error, command: auditName, caller: caller, context: context,
                                        projectId: projectId, stream: stream)
                throw error
            }
        } }
    }

    /// Appends decided events, expecting the stream still at `version`; nothing when there are none.
    func append(_ events: [some StoredEvent], to stream: StreamID, after version: Int64, by caller: Caller, projectId: String,
                context: CommandContext, digest: String, newDataKeys: [NewDataKey] = [],
                accessTokenChanges: [AccessTokenChange] = [], unchangedStreams: [StreamID: Int64] = [:]) async throws -> CommandOutcome {
        guard let actor = caller.actor, !events.isEmpty else {
            return CommandOutcome(stream: stream, append: nil, versionIfUnchanged: version)
        }
        let request = AppendRequest(
            stream: stream, expectedVersion: version == 0 ? .noStream : .exact(version),
            events: try events.map { try $0.encode() },
            metadata: EventMetadata(actor: actor, projectId: projectId, correlationId: context.correlationId,
                                    causationId: context.commandId, recordedAt: context.now),
            idempotency: context.idempotencyKey.map { IdempotencyToken(key: $0, requestDigest: digest) },
            newDataKeys: newDataKeys, accessTokenChanges: accessTokenChanges, unchangedStreams: unchangedStreams)
        return CommandOutcome(stream: stream, append: try await store.append(request))
    }

    /// Runs `attempt` again (after a jittered back-off) while it fails with a concurrency conflict.
    func retryingConflicts<Outcome>(_ attempt: () async throws -> Outcome) async throws -> Outcome {
        var lastConflict: StoreError?
        for number in 0..<Self.maxAttempts {
            if lastConflict != nil { try await Self.backOff(number) }
            do {
                return try await attempt()
            } catch let conflict as StoreError {
                guard case .wrongExpectedVersion = conflict else { throw conflict }
                lastConflict = conflict
            }
        }
        guard let lastConflict else { preconditionFailure("maxAttempts is at least 1") }
        throw lastConflict
    }

    /// Waits a random time, growing with the attempt (up to 50 ms), so contending writers spread out.
    static func backOff(_ attempt: Int) async throws {
        let ceiling = min(50_000, 500 << min(attempt, 7))
        try await Task.sleep(for: .microseconds(Int.random(in: 0...ceiling)))
    }

    /// The first result of a retried command, if its idempotency key was seen before.
    func replay(_ context: CommandContext, digest: String) async throws -> CommandOutcome? {
        guard let key = context.idempotencyKey, let earlier = try await store.idempotentResult(forKey: key) else { return nil }
        guard earlier.requestDigest == digest else { throw StoreError.idempotencyKeyReused(key: key) }
        return CommandOutcome(stream: earlier.result.stream, append: earlier.result)
    }

    /// A digest of a command's arguments, to catch an idempotency key reused for another command.
    func requestDigest(_ parts: [String]) -> String {
        vault.fingerprint(of: Array(parts.joined(separator: "\u{1F}").utf8))
    }

    /// Keeps the refusal of something the service did not run itself (the start of an OAuth2
    /// authorization, say) for the audit trail, under the same rules as its own refusals.
    public func recordRefusal(_ error: DomainError, command: String, context: CommandContext, projectId: String?,
                              stream: StreamID?) async throws {
        var resolved: Caller?
        if let projectId { resolved = try await caller(context.principal, in: projectId) }
        try await recordRefusal(error, command: command, caller: resolved, context: context, projectId: projectId, stream: stream)
    }

    /// Keeps a refusal for the audit trail. A caller who may not see the project (a token of
    /// another project, an outsider) leaves it in their own scope, not in the project's audit:
    /// trying another project's ids must not write into that project's trail.
    func recordRefusal(_ error: DomainError, command: String, caller: Caller?, context: CommandContext,
                       projectId: String?, stream: StreamID?) async throws {
        var seesProject = caller != nil && context.mayReach(projectId)
        if case .outsider? = caller { seesProject = false }
        try await store.recordRefusal(Refusal(
            recordedAt: context.now, actorId: context.principal.id, actorRole: caller?.roleName ?? "unknown",
            projectId: seesProject ? projectId : context.projectScope, stream: seesProject ? stream : nil,
            command: command, reason: error.description, correlationId: context.correlationId))
    }
}
