import CredlogDomain
import CredlogEvents
import CredlogLifecycle
import CredlogProjections
import CredlogServer
import CredlogTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

/// The page's sessions live in the database: a second server (on PostgreSQL, over its own pool)
/// and a restarted one know them; signing out on one ends the session on all; an idle session
/// and an old one end; the table holds no cookie value; a read-only session acts on nothing.
@Suite("Sessions", .serviceScope)
struct SessionTests {
    /// A server's environment over `database`, as a separate process would build it.
    static func environment(_ log: TemporaryLog, database: any SQLDatabase, clock: @escaping @Sendable () -> Timestamp = { .now() },
                            policy: SessionPolicy = SessionPolicy()) -> ServerEnvironment {
        let store = CredlogDatabase.eventStore(database, chain: ChainHasher(key: log.keys.chainKey),
                                               observers: [DataKeys.Shredder(), AccessTokens.Revoker(), InlineProjections()])
        let service = CommandService(store: store, vault: CredentialVault(database: database, keys: log.keys))
        let lifecycle = CredentialLifecycle(database: database, service: service, http: OutboundHTTP(destinations: .publicOnly),
                                            callbackURL: CallbackURL(ServerEnvironment.callbackURL(publicURL: "http://127.0.0.1:8080")))
        return ServerEnvironment(database: database, store: store, lifecycle: lifecycle, sessionPolicy: policy, clock: clock)
    }

    /// `body` with a client of `environment`'s router.
    static func serving(_ environment: ServerEnvironment, _ body: @Sendable (APIClient) async throws -> Void) async throws {
        var logger = Logger(label: "credlog-test")
        logger.logLevel = .error
        let app = Application(router: try await CredlogServer.router(environment), logger: logger)
        try await app.test(.router) { client in try await body(APIClient(client: client)) }
    }

    /// Signs in: the cookie header value and the page's CSRF token.
    static func signIn(_ api: APIClient, _ token: String) async throws -> (cookie: String, csrf: String) {
        let response = try await api.call(.post, "/login", form: "token=" + token)
        #expect(response.status == 303)
        let cookie = String(try #require(response.headers[.setCookie]).split(separator: ";")[0])
        let page = try await api.call(.get, "/connections", headers: [.cookie: cookie])
        let csrf = try #require(page.text.firstMatch(of: /name="csrf" value="([0-9a-f]+)"/)?.1)
        return (cookie, String(csrf))
    }

    static func isSignedIn(_ api: APIClient, _ cookie: String) async throws -> Bool {
        let response = try await api.call(.get, "/connections", headers: [.cookie: cookie])
        #expect([200, 303].contains(response.status))
        return response.status == 200
    }

    @Test(arguments: TestBackend.available)
    func aSessionSurvivesARestartIsKnownToEveryServerAndEndsEverywhereAtSignOut(backend: TestBackend) async throws {
        let log = try await TemporaryLog(backend: backend)
        try await log.seedProject("acme")
        let alice = try await log.issueToken(member: "alice").token
        let first = Self.environment(log, database: log.database)
        // Another server: on PostgreSQL over its own pool, as another machine behind the load balancer.
        let second = Self.environment(log, database: try await CredlogDatabase.open(try StoreLocation(log.path)))
        let session = Shared<(cookie: String, csrf: String)?>(nil)
        try await Self.serving(first) { api in
            let signed = try await Self.signIn(api, alice)
            session.update { $0 = signed }
        }
        let (cookie, csrf) = try #require(session.current)

        // The first server is gone; a restarted one over a new pool knows the session, with the same CSRF token.
        let restarted = Self.environment(log, database: try await CredlogDatabase.open(try StoreLocation(log.path)))
        try await Self.serving(restarted) { api in
            let page = try await api.call(.get, "/connections", headers: [.cookie: cookie])
            #expect(page.status == 200 && page.text.contains(#"name="csrf" value="\#(csrf)""#))
        }
        try await Self.serving(second) { secondAPI in
            try await Self.serving(restarted) { restartedAPI in
                #expect(try await Self.isSignedIn(secondAPI, cookie))
                let signOut = try await secondAPI.call(.post, "/logout", form: "csrf=" + csrf, headers: [.cookie: cookie])
                #expect(signOut.status == 303)
                #expect(try await Self.isSignedIn(restartedAPI, cookie) == false, "signed out on one server: out on all")
                #expect(try await Self.isSignedIn(secondAPI, cookie) == false)
            }
        }
        #expect(try await log.database.read { db in try db.fetchValue(sql: "SELECT COUNT(*) FROM sessions", arguments: []) as Int? } == 0)
    }

    @Test func anIdleSessionAndAnOldOneEnd() async throws {
        let log = try await TemporaryLog()
        try await log.seedProject("acme")
        let alice = try await log.issueToken(member: "alice").token
        let now = Shared(Timestamp(iso8601: "2026-12-01T09:00:00Z")!)
        let policy = SessionPolicy(idleTimeout: .seconds(30 * 60), lifetime: .seconds(8 * 3600))
        let environment = Self.environment(log, database: log.database, clock: { now.current }, policy: policy)
        try await Self.serving(environment) { api in
            let idle = try await Self.signIn(api, alice).cookie
            now.update { $0 = $0 + .seconds(20 * 60) }
            #expect(try await Self.isSignedIn(api, idle), "20 minutes idle")
            now.update { $0 = $0 + .seconds(29 * 60) }
            #expect(try await Self.isSignedIn(api, idle), "29 minutes since its last use")
            now.update { $0 = $0 + .seconds(31 * 60) }
            #expect(try await Self.isSignedIn(api, idle) == false, "31 minutes idle: ended")

            let busy = try await Self.signIn(api, alice).cookie
            for _ in 0..<31 {  // 31 × 15 minutes = 7 h 45 min, used every 15 minutes
                now.update { $0 = $0 + .seconds(15 * 60) }
                #expect(try await Self.isSignedIn(api, busy))
            }
            now.update { $0 = $0 + .seconds(15 * 60) }
            #expect(try await Self.isSignedIn(api, busy) == false, "8 hours after sign-in: ended, however busy")
        }
    }

    @Test func theTableKeepsNoCookieValueAndAForgedRowOpensNothing() async throws {
        let log = try await TemporaryLog()
        try await log.seedProject("acme")
        let (alice, aliceId) = try await log.issueToken(member: "alice")
        let environment = Self.environment(log, database: log.database)
        try await Self.serving(environment) { api in
            let (cookie, csrf) = try await Self.signIn(api, alice)
            let value = String(cookie.split(separator: "=")[1])
            let rows = try await log.database.read { db in try db.fetchAll(sql: "SELECT * FROM sessions", arguments: []) }
            #expect(rows.count == 1)
            let dump = rows.map { row in row.values.map { "\($0)" }.joined(separator: "|") }.joined()
            #expect(!dump.contains(value) && !dump.contains(csrf), "neither the cookie nor the CSRF token is stored")
            #expect(!dump.lowercased().contains(Data(value.utf8).base64EncodedString().lowercased()))
            // A row written by someone without the session key: its id is a plain hash of a value they chose.
            let forged = String(repeating: "ab", count: 32)
            try await log.database.write { db in
                try db.execute(sql: "INSERT INTO sessions (id_hash, token_id, created_at, last_seen_at, ends_at) VALUES (?, ?, ?, ?, ?)",
                               arguments: [Data(KeyedHash.digest(Array(("session:" + forged).utf8), key: Array(repeating: 0, count: 32))),
                                           aliceId, "2026-01-01T00:00:00Z", "2099-01-01T00:00:00Z", "2099-01-01T00:00:00Z"])
            }
            #expect(try await Self.isSignedIn(api, "credlog_session=" + forged) == false)
            #expect(try await Self.isSignedIn(api, "credlog_session=" + String(repeating: "z", count: 5000)) == false, "an oversized cookie is no session")
        }
    }

    @Test func aRevokedTokensSessionsEnd() async throws {
        let log = try await TemporaryLog()
        try await log.seedProject("acme")
        let (alice, aliceId) = try await log.issueToken(member: "alice")
        try await Self.serving(Self.environment(log, database: log.database)) { api in
            let cookie = try await Self.signIn(api, alice).cookie
            try await log.revokeToken(aliceId)
            #expect(try await Self.isSignedIn(api, cookie) == false)
        }
    }

    @Test func aReadOnlySessionIsOfferedNoActionAndItsPostsAreRefusedAndAudited() async throws {
        let fixture = try await APIFixture()
        let id = try await fixture.createConnection()
        let reader = try await fixture.log.service.issueToken(kind: .member, memberId: "alice", scope: .read, in: "acme",
                                                              context: CommandContext(principal: .system)).token
        try await fixture.test { api in
            let (cookie, csrf) = try await Self.signIn(api, reader)
            let page = try await api.call(.get, "/connections", headers: [.cookie: cookie])
            #expect(page.text.contains("read-only") && !page.text.contains("New connection</button>") && !page.text.contains("/rename"))
            let events = try await fixture.events()
            let refusals = try await fixture.log.store.refusals().count
            let rename = try await api.call(.post, "/connections/\(id)/rename", form: "csrf=\(csrf)&name=Hijacked", headers: [.cookie: cookie])
            #expect(rename.status == 303)
            let after = try await api.call(.get, "/connections", headers: [.cookie: cookie])
            #expect(after.text.contains("read-only: it may read"), "the refusal is the next page's message")
            #expect(try await fixture.events() == events, "nothing renamed")
            let audited = try await fixture.log.store.refusals().dropFirst(refusals)
            #expect(audited.map(\.command) == ["POST /connections/{id}/rename"])
            #expect(try await api.call(.post, "/logout", form: "csrf=" + csrf, headers: [.cookie: cookie]).status == 303,
                    "signing out is not a write")
        }
    }
}
