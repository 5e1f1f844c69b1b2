@testable import CredlogDomain
import CredlogEvents
import CredlogTestSupport
import Foundation
import Testing

/// Commands decided from cached stream states (``StreamStates``) decide what commands decided
/// from the database would: each test has a second service (another process, another server)
/// change a stream behind the first service's cache, then checks the first one's next command.
@Suite("Commands decided from cached stream states", .serviceScope)
struct StreamStatesTests {
    static func ctx(_ who: String) -> CommandContext { CommandContext(principal: .member(who)) }

    /// A log with acme (alice admin, bob member), one connection, and two services over it: `cached`
    /// has the connection and the project in its cache, `other` has its own.
    static func setUp(_ backend: TestBackend) async throws -> (log: TemporaryLog, cached: CommandService, other: CommandService, id: String) {
        let log = try await TemporaryLog(backend: backend)
        try await log.seedProject()
        let cached = CommandService(store: log.store, vault: log.vault)
        var secret = Array(#"{"apiKey":"k-1"}"#.utf8)
        let created = try await cached.createConnection(projectId: "acme", piece: "hubspot", authType: .apiKey, name: "Gmail",
                                                        credentials: &secret, context: ctx("bob"))
        let id = try #require(created.stream.connectionId)
        _ = try await cached.attach(flow: "flow-1", to: id, context: ctx("bob"))  // decided from its cache from here on
        #expect(cached.states.connection(id)?.version == 2)
        #expect(cached.states.project("acme") != nil)
        return (log, cached, CommandService(store: log.store, vault: log.vault), id)
    }

    @Test(arguments: TestBackend.available)
    func aConnectionChangedElsewhereIsDecidedAgainFromTheDatabase(backend: TestBackend) async throws {
        let (log, cached, other, id) = try await Self.setUp(backend)
        _ = try await other.rename(id, to: "Renamed elsewhere", context: Self.ctx("alice"))
        let outcome = try await cached.attach(flow: "flow-2", to: id, context: Self.ctx("bob"))
        #expect(outcome.streamVersion == 4, "appended after the rename, not over it")
        let (state, version) = try await other.loadConnection(id)
        #expect(version == 4)
        #expect(state.connection?.name == "Renamed elsewhere")
        #expect(state.connection?.flows == Set(["flow-1", "flow-2"]))
        #expect(cached.states.connection(id)?.version == 4, "the cache holds the new state")
        #expect(try await log.allEvents().count == 2 + 4, "project (2) and connection (4) events")
    }

    @Test(arguments: TestBackend.available)
    func nothingToChangeIsConfirmedAgainstTheDatabase(backend: TestBackend) async throws {
        let (_, cached, other, id) = try await Self.setUp(backend)
        _ = try await other.rename(id, to: "Elsewhere", context: Self.ctx("alice"))
        // The cache still says "Gmail": renaming to it would change nothing there, but does here.
        let outcome = try await cached.rename(id, to: "Gmail", context: Self.ctx("alice"))
        #expect(!outcome.changedNothing)
        #expect(try await other.loadConnection(id).state.connection?.name == "Gmail")
    }

    @Test(arguments: TestBackend.available)
    func aRoleTakenAwayElsewhereIsRefusedAndNothingIsAppended(backend: TestBackend) async throws {
        let (log, cached, other, id) = try await Self.setUp(backend)
        _ = try await other.addMember("carol", role: .admin, to: "acme", context: Self.ctx("alice"))
        _ = try await other.changeRole(of: "alice", to: .member, in: "acme", context: Self.ctx("carol"))
        let before = try await log.allEvents()
        let refusals = try await log.store.refusals().count
        await #expect(throws: DomainError.self) {
            _ = try await cached.rename(id, to: "Alice's now", context: Self.ctx("alice"))
        }
        #expect(try await log.allEvents() == before)
        #expect(try await log.store.refusals().count == refusals + 1)
        #expect(try await log.store.refusals().last?.command == "connection.rename")
    }

    @Test(arguments: TestBackend.available)
    func aRoleGivenElsewhereIsNotRefusedFromAnOldCache(backend: TestBackend) async throws {
        let (log, cached, other, id) = try await Self.setUp(backend)
        _ = try await other.changeRole(of: "bob", to: .admin, in: "acme", context: Self.ctx("alice"))
        let refusals = try await log.store.refusals().count
        let outcome = try await cached.rename(id, to: "Bob's now", context: Self.ctx("bob"))
        #expect(!outcome.changedNothing)
        #expect(try await log.store.refusals().count == refusals, "no refusal was recorded from the stale membership")
        #expect(try await other.loadConnection(id).state.connection?.name == "Bob's now")
    }

    @Test(arguments: TestBackend.available)
    func anAppendChecksTheProjectItWasDecidedWith(backend: TestBackend) async throws {
        let (log, _, _, id) = try await Self.setUp(backend)
        let meta = EventMetadata(actor: .member("alice", .admin), projectId: "acme", correlationId: "c", causationId: "c",
                                 recordedAt: .now())
        let rename = try ConnectionEvent.renamed(.init(from: "Gmail", to: "X")).encode()
        let request = AppendRequest(stream: .connection(id), expectedVersion: .exact(2), events: [rename], metadata: meta,
                                    unchangedStreams: [.project("acme"): 1])
        await #expect(throws: StoreError.wrongExpectedVersion(stream: .project("acme"), expected: .exact(1), actual: 2)) {
            _ = try await log.store.append(request)
        }
        var current = request
        current.unchangedStreams = [.project("acme"): 2]
        #expect(try await log.store.append(current).streamVersion == 3)
    }

    @Test func theCacheStaysWithinItsCapacityAndKeepsWhatIsUsed() {
        let states = StreamStates(capacity: 8)
        states.keep(.project(.initial), version: 1, for: .project("hot"))
        for n in 0..<100 {
            states.keep(.connection(.none), version: Int64(n + 1), for: .connection("c\(n)"))
            #expect(states.project("hot")?.version == 1, "a stream in use stays")
            #expect(states.count <= 8)
        }
        #expect(states.connection("c99")?.version == 100)
        #expect(states.connection("c0") == nil)
        states.keep(.project(.initial), version: 0, for: .project("hot"))
        #expect(states.project("hot")?.version == 1, "an older fold does not replace a newer one")
        states.forget([.project("hot")])
        #expect(states.project("hot") == nil)
    }
}
