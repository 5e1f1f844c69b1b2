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

/// A database that can be told to go away and come back (an outage, as PostgreSQL stopping).
final class SwitchableDatabase: SQLDatabase {
    let base: any SQLDatabase
    let away = Shared(false)

    init(_ base: any SQLDatabase) { self.base = base }

    var dialect: SQLDialect { base.dialect }

    private func check() throws {
        if away.current { throw StoreError.database(sqlState: "08006", message: "the test took the database away") }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        try check()
        return try await base.read(body)
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        try check()
        return try await base.write(body)
    }

    func reclaimDeletedRows(of table: String) async throws {
        try check()
        try await base.reclaimDeletedRows(of: table)
    }
}

/// What operators see: readiness that follows the database and the keys, liveness that does not,
/// and a request log with each request's status and duration.
@Suite("Operating the server", .serviceScope)
struct OperationsTests {
    @Test func readinessFollowsTheDatabaseAndTheKeysAndLivenessStays() async throws {
        let log = try await TemporaryLog()
        try await log.seedProject("acme")
        let database = SwitchableDatabase(log.database)
        let environment = SessionTests.environment(log, database: database)
        try await SessionTests.serving(environment) { api in
            func ready() async throws -> (status: Int, checks: [String: String]) {
                let response = try await api.call(.get, "/health/ready")
                return (response.status, response.object["checks"] as? [String: String] ?? [:])
            }
            let healthy = try await ready()
            #expect(healthy.status == 200 && healthy.checks == ["database": "ok", "keys": "ok", "projections": "ok"])
            database.away.update { $0 = true }
            let outage = try await ready()
            #expect(outage.status == 503 && outage.checks["database"] == "unavailable")
            #expect(try await api.call(.get, "/health/live").status == 200, "alive while the database is away")
            database.away.update { $0 = false }
            #expect(try await ready().status == 200, "ready again without a restart")

            _ = try await KeyRing.rotate(log.database, from: log.masterKey, to: MasterKey.generate())
            let rotated = try await ready()
            #expect(rotated.status == 503 && rotated.checks["keys"] == "rotated", "a master key rotated under the server")
            let body = try await api.call(.get, "/health/ready").text
            #expect(!body.contains("acme") && !body.contains("08006"), "no project and no error text to the world")
        }
    }

    /// A server whose read models trail the log (a process appending without its inline
    /// projections, as an older credlog or a copy would) is unready until they catch up.
    @Test func readinessTurnsFalseWhileAProjectionIsBehindItsBoundAndBackOnceCaughtUp() async throws {
        let log = try await TemporaryLog()
        try await log.seedProject("acme")
        var environment = SessionTests.environment(log, database: log.database)
        environment.maxProjectionLag = 2
        let unprojected = CommandService(store: CredlogDatabase.eventStore(log.database, chain: ChainHasher(key: log.keys.chainKey), observers: []),
                                         vault: log.vault)
        try await SessionTests.serving(environment) { api in
            func ready() async throws -> (status: Int, checks: [String: String]) {
                let response = try await api.call(.get, "/health/ready")
                return (response.status, response.object["checks"] as? [String: String] ?? [:])
            }
            for index in 1...2 {
                var key = Array(#"{"apiKey":"k-\#(index)"}"#.utf8)
                _ = try await unprojected.createConnection(projectId: "acme", piece: "hubspot", authType: .apiKey, name: "HubSpot \(index)",
                                                           credentials: &key, context: CommandContext(principal: .member("alice"), now: .now()))
            }
            #expect(try await ready().status == 200, "two events behind is within the bound")
            var key = Array(#"{"apiKey":"k-3"}"#.utf8)
            _ = try await unprojected.createConnection(projectId: "acme", piece: "hubspot", authType: .apiKey, name: "HubSpot 3",
                                                       credentials: &key, context: CommandContext(principal: .member("alice"), now: .now()))
            let behind = try await ready()
            #expect(behind.status == 503 && behind.checks == ["database": "ok", "keys": "ok", "projections": "behind"])
            try await ProjectionRunner(database: log.database).catchUp()
            #expect(try await ready().status == 200, "ready again once caught up")
        }
    }

    @Test func eachRequestIsLoggedWithItsStatusAndDuration() async throws {
        let fixture = try await APIFixture()
        try await fixture.test { api in
            let statuses = [try await api.call(.get, "/v1/connections", token: fixture.alice).status,
                            try await api.call(.get, "/v1/connections", token: "clt_tok_x_y").status,
                            try await api.call(.get, "/v1/no-such-route", token: fixture.alice).status]
            #expect(statuses == [200, 401, 404])
        }
        let requests = fixture.logs.text.split(separator: "\n").filter { $0.contains(" Request ") }
        for (path, status) in [("/v1/connections", 200), ("/v1/connections", 401), ("/v1/no-such-route", 404)] {
            #expect(requests.contains { $0.contains(#""hb.request.path": \#(path)"#) && $0.contains(#""hb.response.status": \#(status)"#)
                && $0.contains(#""credlog.duration_ms": "#) }, "\(path) \(status): \(requests)")
        }
    }
}
