import Metrics
import CredlogDomain
import CredlogEvents
import CredlogLifecycle
import CredlogProjections
import Foundation

/// An opened credlog database with its keys unlocked: what every command works on.
struct Workspace {
    let database: any SQLDatabase
    let keys: KeyRing
    let store: any EventStore
    /// The command service, with the pieces' validation requests on.
    let service: CommandService
    /// Requests out (validation, token endpoints, webhooks): public destinations only, unless
    /// `CREDLOG_ALLOW_PRIVATE_DESTINATIONS=1`.
    let http: OutboundHTTP
    /// Where the lifecycle counts refreshes, deliveries and sweeps (`serve`'s registry, or nowhere).
    var lifecycleMetrics: LifecycleMetrics = .none

    /// Opens the database named by the options and unlocks it with the master key.
    /// Projections whose definition changed are rebuilt, and any that is behind catches up,
    /// unless `catchingUp` is false (`verify` must work on a log too damaged to project).
    /// With `metrics`, the database's pool use, the appends and the lifecycle are recorded there.
    static func open(_ options: GlobalOptions, catchingUp: Bool = true,
                     http: OutboundHTTP = OutboundHTTP(destinations: .fromEnvironment()),
                     metrics: (any MetricsFactory)? = nil) async throws -> Workspace {
        var database = try await CredlogDatabase.open(try options.location())
        if let metrics { database = MeteredDatabase(database, factory: metrics) }
        let keys = try await unlock(database, options: options)
        guard catchingUp else { return open(database, keys: keys, http: http, metrics: metrics) }
        let runner = ProjectionRunner(database: database)
        let reset = try await runner.prepare()
        if !reset.isEmpty { ProgressBar.note("rebuilding changed projections: \(reset.joined(separator: ", "))") }
        try await runner.catchUp(progress: ProgressBar.forTerminal(label: "catching up"))
        return open(database, keys: keys, http: http, metrics: metrics)
    }

    /// A workspace over an open database.
    static func open(_ database: any SQLDatabase, keys: KeyRing,
                     http: OutboundHTTP = OutboundHTTP(destinations: .fromEnvironment()),
                     metrics: (any MetricsFactory)? = nil) -> Workspace {
        let store = CredlogDatabase.eventStore(database, chain: ChainHasher(key: keys.chainKey),
                                               observers: [DataKeys.Shredder(), AccessTokens.Revoker(), InlineProjections()],
                                               metrics: metrics.map(LogMetrics.init(factory:)) ?? .none)
        let vault = CredentialVault(database: database, keys: keys)
        let service = CommandService(store: store, vault: vault).validating(with: HTTPCredentialValidator(http: http))
        return Workspace(database: database, keys: keys, store: store, service: service, http: http,
                         lifecycleMetrics: metrics.map(LifecycleMetrics.init(factory:)) ?? .none)
    }

    /// The credential lifecycle on this database (refresh, sweep, webhooks, OAuth2).
    func lifecycle(_ settings: LifecycleSettings = .init(), callbackURL: CallbackURL = "http://127.0.0.1:8080/v1/oauth2/callback")
        -> CredentialLifecycle {
        CredentialLifecycle(database: database, service: service, settings: settings, http: http, callbackURL: callbackURL,
                            metrics: lifecycleMetrics)
    }

    /// A project as the acting principal sees it: "not found" to outsiders, and "forbidden" to
    /// members who are not admins when `adminsOnly`.
    func project(_ id: String, _ options: GlobalOptions, adminsOnly: Bool = false) async throws -> ProjectState {
        let (state, _) = try await service.loadProject(id)
        let caller = Caller(try options.principal(), in: state)
        if adminsOnly {
            try MembershipDecider.authorize(caller, projectId: id, state: state)
        } else if caller.actor == nil {
            throw DomainError.notFound("project \(id)")
        }
        return state
    }

    /// The reads of connections, their history and flows, each checking what the reader may see.
    var queries: QueryService { QueryService(store: store, database: database, service: service) }

    /// Unlocks the keyring. If a key rotation stopped after re-wrapping but before
    /// replacing the key file, the new key is waiting in `KEYFILE.next`: finish the rotation.
    private static func unlock(_ database: any SQLDatabase, options: GlobalOptions) async throws -> KeyRing {
        let masterKey = try MasterKey.load(environment: options.environment, keyFile: options.keyFile)
        do {
            return try await KeyRing.unlock(database, masterKey: masterKey)
        } catch KeyError.wrongMasterKey(let expected, let given) {
            let pending = options.keyFile + ".next"
            guard options.environment["CREDLOG_MASTER_KEY"] == nil,
                  let next = try? KeyFile.read(pending), next.id == expected else {
                throw KeyError.wrongMasterKey(expected: expected, given: given)
            }
            let keys = try await KeyRing.unlock(database, masterKey: next)
            _ = rename(pending, options.keyFile)
            return keys
        }
    }

    func context(_ options: GlobalOptions, _ command: CommandOptions? = nil) throws -> CommandContext {
        CommandContext(principal: try options.principal(), now: try options.now(), correlationId: command?.correlationId,
                       idempotencyKey: command?.idempotencyKey)
    }
}
