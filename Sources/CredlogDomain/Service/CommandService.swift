import CredlogEvents
import Foundation

/// The imperative shell around the deciders: load a stream, fold it, decide, append
/// with the version that was read, and retry when another writer got there first.
///
/// Refused commands append nothing and are kept in the audit trail.
public struct CommandService: Sendable {
    public let store: any EventStore
    public let vault: CredentialVault
    /// The pieces credlog knows (a project's registrations are read with the project).
    public let pieces: PieceCatalogue
    /// Runs a piece's validation request on new credentials; `nil`: none are run.
    private(set) var validator: (any CredentialValidator)?
    /// Makes new connection ids (`conn_` and 20 random base-32 characters by default).
    let newConnectionId: @Sendable () -> String
    /// The folded states of the streams this service used lately (shared by its copies).
    let states: StreamStates

    /// How many times a command is decided again after a concurrency conflict (with a jittered back-off).
    static let maxAttempts = 50

    public init(store: any EventStore, vault: CredentialVault, pieces: PieceCatalogue = .standard,
                validator: (any CredentialValidator)? = nil,
                newConnectionId: @escaping @Sendable () -> String = ConnectionIDs.random) {
        self.store = store
        self.vault = vault
        self.pieces = pieces
        self.validator = validator
        self.newConnectionId = newConnectionId
        states = StreamStates()
    }

    /// The same service with another validator.
    public func validating(with validator: (any CredentialValidator)?) -> CommandService {
        var service = self
        service.validator = validator
        return service
    }

    // MARK: Reading state

    /// A connection's state and stream version (0 when it does not exist).
    public func loadConnection(_ id: String) async throws -> (state: ConnectionState, version: Int64) {
        let events = try await store.readStream(.connection(id), from: 1)
        let state = try ConnectionState.fold(events.map { try $0.decode(as: ConnectionEvent.self) })
        return (state, events.last?.streamVersion ?? 0)
    }

    /// What a connection command decides from: the connection (0 events for a new id) and the
    /// membership of its project (or of `newInProject` for a connection being created).
    struct Loaded {
        var connection: ConnectionState
        var version: Int64
        var projectId: String?
        var project: ProjectState
        var projectVersion: Int64
        /// Taken from ``StreamStates`` without reading the database: the append checks both versions.
        var fromCache: Bool
    }

    /// The connection and its project, from the cache when both are there and `trustingCache`,
    /// else read in one snapshot (and cached).
    func loadConnectionAndProject(_ id: String, newInProject: String?, trustingCache: Bool) async throws -> Loaded {
        if let newInProject {
            // A new id has no events yet: only the project is read.
            if trustingCache, let (project, version) = states.project(newInProject) {
                return Loaded(connection: .none, version: 0, projectId: newInProject, project: project, projectVersion: version, fromCache: true)
            }
            let (project, version) = try await loadProject(newInProject)
            return Loaded(connection: .none, version: 0, projectId: newInProject, project: project, projectVersion: version, fromCache: false)
        }
        if trustingCache, let (state, version) = states.connection(id), let projectId = state.connection?.projectId,
           let (project, projectVersion) = states.project(projectId) {
            return Loaded(connection: state, version: version, projectId: projectId, project: project, projectVersion: projectVersion,
                          fromCache: true)
        }
        let (events, projectEvents) = try await store.readStream(.connection(id)) { events in
            events.first.map { StreamID.project($0.projectId) }
        }
        let state = try ConnectionState.fold(events.map { try $0.decode(as: ConnectionEvent.self) })
        let project = try ProjectState.fold(projectEvents.map { try $0.decode(as: MembershipEvent.self) })
        let loaded = Loaded(connection: state, version: events.last?.streamVersion ?? 0, projectId: state.connection?.projectId,
                            project: project, projectVersion: projectEvents.last?.streamVersion ?? 0, fromCache: false)
        if loaded.version > 0 { states.keep(.connection(state), version: loaded.version, for: .connection(id)) }
        if let projectId = loaded.projectId, loaded.projectVersion > 0 {
            states.keep(.project(project), version: loaded.projectVersion, for: .project(projectId))
        }
        return loaded
    }

    /// A project's membership and stream version: the cached state and the events appended
    /// since it (one read, usually of no row), or the whole stream.
    public func loadProject(_ id: String) async throws -> (state: ProjectState, version: Int64) {
        let cached = states.project(id)
        let events = try await store.readStream(.project(id), from: (cached?.version ?? 0) + 1)
        var state = cached?.state ?? ProjectState.initial
        for event in events { state = ProjectState.evolve(state, try event.decode(as: MembershipEvent.self)) }
        let version = events.last?.streamVersion ?? cached?.version ?? 0
        if !events.isEmpty { states.keep(.project(state), version: version, for: .project(id)) }
        return (state, version)
    }

    /// The caller as seen from a project.
    public func caller(_ principal: Principal, in projectId: String) async throws -> Caller {
        Caller(principal, in: try await loadProject(projectId).state)
    }

    // MARK: Connection commands

    /// Creates a connection; `credentials` (JSON) is checked against `authType` (which must be the
    /// piece's, for a catalogued piece), validated at the provider when the piece says how,
    /// sealed and wiped.
    public func createConnection(projectId: String, piece: String, authType: AuthType, name: String,
                                 credentials: inout [UInt8], context: CommandContext) async throws -> CommandOutcome {
        defer { Sodium.wipe(&credentials) }
        var plaintext = credentials  // wiped too: copies made for the closure are not left behind
        defer { Sodium.wipe(&plaintext) }
        let digest = requestDigest(["create", projectId, piece, authType.rawValue, name, vault.fingerprint(of: plaintext)])
        if let earlier = try await replay(context, digest: digest) { return earlier }
        let id = newConnectionId()
        return try await executeConnection(.create, id: id, newInProject: projectId, context: context, digest: digest) { _, version, project in
            let definition = try pieces.check(piece: piece, authType: authType, in: project)
            let sealing = try await checkAndSeal(plaintext, as: authType, validatingFor: definition, connectionId: id,
                                                 streamVersion: version + 1)
            return (.create(.init(connectionId: id, projectId: projectId, piece: piece, name: name, credentials: sealing.credentials)),
                    sealing.newDataKey)
        }
    }

    /// Replaces a connection's credentials (checked against its auth type, validated at the
    /// provider when its piece says how) and makes it active.
    public func reconnect(_ id: String, credentials: inout [UInt8], context: CommandContext) async throws -> CommandOutcome {
        defer { Sodium.wipe(&credentials) }
        var plaintext = credentials  // wiped too: copies made for the closure are not left behind
        defer { Sodium.wipe(&plaintext) }
        let digest = requestDigest(["reconnect", id, vault.fingerprint(of: plaintext)])
        return try await executeConnection(.reconnect, id: id, context: context, digest: digest) { state, version, project in
            guard let connection = state.connection else { throw DomainError.notFound("connection \(id)") }
            let sealing = try await checkAndSeal(plaintext, as: connection.authType,
                                                 validatingFor: pieces.piece(connection.piece, in: project), connectionId: id,
                                                 streamVersion: version + 1)
            return (.reconnect(sealing.credentials), sealing.newDataKey)
        }
    }

    /// Records OAuth2 tokens refreshed at the provider (`credentials`: the new token JSON, which is
    /// checked, sealed and wiped) in place of the credential with fingerprint `replacing`. Only the
    /// system and the engine refresh; the status is unchanged.
    public func recordRefresh(_ id: String, credentials: inout [UInt8], replacing: String,
                              context: CommandContext) async throws -> CommandOutcome {
        defer { Sodium.wipe(&credentials) }
        var plaintext = credentials
        defer { Sodium.wipe(&plaintext) }
        let digest = requestDigest(["refresh", id, replacing, vault.fingerprint(of: plaintext)])
        return try await executeConnection(.refresh, id: id, context: context, digest: digest) { _, version, _ in
            // The provider just issued these tokens: no validation request.
            let sealing = try await checkAndSeal(plaintext, as: .oauth2, validatingFor: nil, issuedAt: context.now,
                                                 connectionId: id, streamVersion: version + 1)
            return (.refresh(sealing.credentials, replacing: replacing), sealing.newDataKey)
        }
    }

    /// Checks credentials against their auth type's rules, runs the piece's validation request
    /// (if it has one and a validator is set), and seals them for the event at `streamVersion`;
    /// `issuedAt` when the provider just issued them.
    private func checkAndSeal(_ plaintext: [UInt8], as authType: AuthType, validatingFor piece: PieceDefinition?,
                              issuedAt: Timestamp? = nil, connectionId: String,
                              streamVersion: Int64) async throws -> CredentialVault.Sealing {
        var checked = try CredentialRules.check(plaintext, as: authType)
        defer { Sodium.wipe(&checked.canonical) }
        if let piece, piece.validation != nil, let validator {
            try await validator.validate(checked.canonical, for: piece)
        }
        return try await vault.seal(checked.canonical, authType: authType, expiresAt: checked.expiresAt,
                                    refreshable: checked.refreshable, issuedAt: issuedAt, connectionId: connectionId,
                                    streamVersion: streamVersion)
    }

    public func rename(_ id: String, to name: String, context: CommandContext) async throws -> CommandOutcome {
        try await executeConnection(.rename, id: id, context: context, digest: requestDigest(["rename", id, name])) { _, _, _ in (.rename(name), nil) }
    }

    public func expire(_ id: String, reason: String, context: CommandContext) async throws -> CommandOutcome {
        try await executeConnection(.expire, id: id, context: context, digest: requestDigest(["expire", id, reason])) { _, _, _ in
            (.expire(reason: reason), nil)
        }
    }

    public func revoke(_ id: String, reason: String, context: CommandContext) async throws -> CommandOutcome {
        try await executeConnection(.revoke, id: id, context: context, digest: requestDigest(["revoke", id, reason])) { _, _, _ in
            (.revoke(reason: reason), nil)
        }
    }

    /// Deletes a connection and destroys its data key: its history stays, its secrets are gone.
    public func delete(_ id: String, context: CommandContext) async throws -> CommandOutcome {
        let outcome = try await executeConnection(.delete, id: id, context: context, digest: requestDigest(["delete", id])) { _, _, _ in (.delete, nil) }
        if !outcome.changedNothing { try await vault.purgeShreddedKeys() }
        return outcome
    }

    public func attach(flow: String, to id: String, context: CommandContext) async throws -> CommandOutcome {
        try await executeConnection(.attach, id: id, context: context, digest: requestDigest(["attach", id, flow])) { _, _, _ in
            (.attach(flowId: flow), nil)
        }
    }

    /// Records that webhook `webhookId` of the connection's project is warned that the current
    /// credential expires soon (the sweeper, as system); nothing if it was warned about this credential.
    public func warnExpiry(_ id: String, webhook webhookId: String, daysAhead: Int, context: CommandContext) async throws -> CommandOutcome {
        try await executeConnection(.warnExpiry, id: id, context: context,
                                    digest: requestDigest(["warn-expiry", id, webhookId, String(daysAhead)])) { _, _, project in
            guard project.webhooks[webhookId] != nil else { throw DomainError.notFound("webhook \(webhookId)") }
            return (.warnExpiry(webhookId: webhookId, daysAhead: daysAhead), nil)
        }
    }

    public func detach(flow: String, from id: String, context: CommandContext) async throws -> CommandOutcome {
        try await executeConnection(.detach, id: id, context: context, digest: requestDigest(["detach", id, flow])) { _, _, _ in
            (.detach(flowId: flow), nil)
        }
    }

    /// The plaintext credentials of an active connection, for the engine that runs its piece only.
    /// Each read is kept for the audit trail. The caller must wipe them.
    public func revealCredentials(_ id: String, context: CommandContext) async throws -> [UInt8] {
        let events = try await store.readStream(.connection(id), from: 1)
        guard let projectId = events.first?.projectId, context.mayReach(projectId) else {
            throw DomainError.notFound("connection \(id)")
        }
        guard case .engine = context.principal else {
            let refusal = DomainError.forbidden("only the engine may read plaintext credentials")
            let caller = try await caller(context.principal, in: projectId)
            try await recordRefusal(refusal, command: "connection.reveal", caller: caller, context: context,
                                    projectId: projectId, stream: .connection(id))
            guard caller.actor != nil else { throw DomainError.notFound("connection \(id)") }
            throw refusal
        }
        let current = try Self.currentCredential(in: events)
        if case .deleted = current.state { throw DomainError.connectionDeleted(id) }
        if let reason = current.state.connection?.status.reasonText { throw ConnectionInactive(connectionId: id, reason: reason) }
        guard let sealed = current.sealed else { throw DomainError.notFound("credentials of connection \(id)") }
        let plaintext = try await vault.open(sealed, connectionId: id, streamVersion: current.version)
        try await store.recordCredentialRead(CredentialRead(
            recordedAt: context.now, actorId: context.principal.id, projectId: projectId, connectionId: id,
            credentialVersion: current.version, correlationId: context.correlationId, via: context.via))
        return plaintext
    }

    /// Runs `body` on a live connection and its current credential in plaintext (wiped once
    /// `body` returns): for credlog's own work on the credential, such as a token refresh. Not a
    /// read by anyone, so not audited; `nil` when the connection is not live.
    public func withCurrentCredential<Result>(_ id: String, _ body: (Connection, [UInt8]) throws -> Result) async throws -> Result? {
        let current = try Self.currentCredential(in: try await store.readStream(.connection(id), from: 1))
        guard case .live(let connection) = current.state, let sealed = current.sealed else { return nil }
        var plaintext = try await vault.open(sealed, connectionId: id, streamVersion: current.version)
        defer { Sodium.wipe(&plaintext) }
        return try body(connection, plaintext)
    }

    /// A connection's state and its current credential, sealed, with the stream version of the
    /// event that set it.
    private static func currentCredential(in events: [RecordedEvent]) throws
        -> (state: ConnectionState, sealed: SealedCredentials?, version: Int64) {
        let decoded = try events.map { ($0, try $0.decode(as: ConnectionEvent.self)) }
        let carrier = decoded.last { $0.1.credentials != nil }
        return (ConnectionState.fold(decoded.map(\.1)), carrier?.1.credentials, carrier?.0.streamVersion ?? 0)
    }

    // MARK: Membership commands

    /// Creates a project with its first admin (an operator action, recorded as `system`).
    public func createProject(_ projectId: String, admin: String, context: CommandContext) async throws -> CommandOutcome {
        try await executeMembership(.createProject(projectId: projectId, admin: admin), projectId: projectId, context: context)
    }

    public func addMember(_ member: String, role: Role, to projectId: String, context: CommandContext) async throws -> CommandOutcome {
        try await executeMembership(.addMember(member, role), projectId: projectId, context: context)
    }

    public func changeRole(of member: String, to role: Role, in projectId: String, context: CommandContext) async throws -> CommandOutcome {
        try await executeMembership(.changeRole(member, role), projectId: projectId, context: context)
    }

    public func removeMember(_ member: String, from projectId: String, context: CommandContext) async throws -> CommandOutcome {
        try await executeMembership(.removeMember(member), projectId: projectId, context: context)
    }

    // MARK: Project configuration

    /// Registers a piece in a project (admins only); an OAuth2 client secret is sealed under the
    /// project's data key and wiped.
    public func registerPiece(_ piece: PieceDefinition, clientSecret: inout [UInt8]?, in projectId: String,
                              context: CommandContext) async throws -> CommandOutcome {
        defer { if clientSecret != nil { Sodium.wipe(&clientSecret!) } }
        var secret = clientSecret
        defer { if secret != nil { Sodium.wipe(&secret!) } }
        let digest = requestDigest(["piece.register", projectId, String(describing: piece), secret.map { vault.fingerprint(of: $0) } ?? "-"])
        return try await executeProject("piece.register", projectId: projectId, context: context, digest: digest) { _, version in
            guard let secret else { return (.registerPiece(piece, clientSecret: nil), nil) }
            guard !secret.isEmpty else { throw DomainError.invalid("the client secret is empty") }
            let sealing = try await vault.seal(secret, authType: .custom, expiresAt: nil,
                                               connectionId: StreamID.project(projectId).rawValue, streamVersion: version + 1)
            return (.registerPiece(piece, clientSecret: sealing.credentials), sealing.newDataKey)
        }
    }

    /// Adds a webhook (admins only) with a new random signing secret, which is returned once. It
    /// is warned `warnDaysAhead` days before a credential credlog cannot renew expires.
    public func addWebhook(url: String, to projectId: String, warnDaysAhead: Int = MembershipEvent.WebhookAdded.defaultWarnDaysAhead,
                           context: CommandContext) async throws -> (outcome: CommandOutcome, id: String, secret: String) {
        let id = "wh_" + Sodium.randomText(12)
        let secret = "whsec_" + Sodium.randomText(32)
        let outcome = try await executeProject("webhook.add", projectId: projectId, context: context,
                                               digest: requestDigest(["webhook.add", projectId, url, String(warnDaysAhead)])) { _, version in
            let sealing = try await vault.seal(Array(secret.utf8), authType: .custom, expiresAt: nil,
                                               connectionId: StreamID.project(projectId).rawValue, streamVersion: version + 1)
            return (.addWebhook(id: id, url: url, secret: sealing.credentials, warnDaysAhead: warnDaysAhead), sealing.newDataKey)
        }
        return (outcome, id, secret)
    }

    public func removeWebhook(_ id: String, from projectId: String, context: CommandContext) async throws -> CommandOutcome {
        try await executeMembership(.removeWebhook(id: id), projectId: projectId, context: context)
    }
}

/// Generates connection ids.
public enum ConnectionIDs {
    /// `conn_` and 20 random characters of the base-32 alphabet (100 bits).
    public static let random: @Sendable () -> String = { "conn_" + Sodium.randomText(20) }
}
