import CredlogDomain
import CredlogEvents
import GRDB

/// What the server works on: the database, its event store and the command service around it.
public struct ServerEnvironment: Sendable {
    public let database: DatabasePool
    public let store: any EventStore
    public let service: CommandService
    /// Signed-in browsers of the Connections page.
    public let sessions: SessionStore
    /// The decision time of commands (a fixed clock in tests).
    public let clock: @Sendable () -> Timestamp

    public init(database: DatabasePool, store: any EventStore, service: CommandService,
                sessions: SessionStore = SessionStore(), clock: @escaping @Sendable () -> Timestamp = { .now() }) {
        self.database = database
        self.store = store
        self.service = service
        self.sessions = sessions
        self.clock = clock
    }

    /// The live token that `presented` is, if any.
    func identity(presenting presented: String) async throws -> Identity? {
        try await database.read { db in try AccessTokens.verify(presented, db) }.map(Identity.init)
    }
}
