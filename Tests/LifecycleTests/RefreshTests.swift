import CredlogDomain
import CredlogEvents
import CredlogLifecycle
import CredlogProjections
import CredlogTestSupport
import Foundation
import GRDB
import AsyncHTTPClient
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

/// Token refresh when the engine asks for credentials, against the loopback provider.
@Suite("Token refresh")
struct RefreshTests {
    @Test func aTokenExpiringWithinFifteenMinutesIsRefreshedBeforeItIsHandedOut() async throws {
        let provider = TestOAuthProvider()
        provider.set { $0.liveRefreshTokens = ["rt-seed"] }
        try await provider.serve { baseURL in
            let fixture = try await LifecycleFixture(baseURL: baseURL)
            let fresh = try await fixture.oauth2Connection(accessToken: "at-fresh", expiresIn: 16 * 60)
            #expect(try await fixture.engineRead(fresh)["accessToken"] as? String == "at-fresh", "16 minutes left: not refreshed")
            #expect(provider.refreshGrants == 0)

            let id = try await fixture.oauth2Connection(accessToken: "at-old", expiresIn: 14 * 60)
            let before = try #require(try await fixture.state(id)).credentials.fingerprint
            let handed = try await fixture.engineRead(id)
            #expect(handed["accessToken"] as? String == "at-1" && handed["refreshToken"] as? String == "rt-1", "rotated refresh token kept")
            #expect(provider.refreshGrants == 1)
            let events = try await fixture.log.store.readStream(.connection(id), from: 1)
            #expect(events.map(\.type) == ["connection.created", "connection.token-refreshed"])
            #expect(events.last?.actor.id == "engine")
            // The event carries fingerprints and the sealed box only.
            let payload = String(decoding: try #require(events.last).payload, as: UTF8.self)
            #expect(payload.contains(before) && !payload.contains("at-1") && !payload.contains("rt-1"))
            let after = try #require(try await fixture.state(id))
            #expect(after.status == .active && after.credentials.fingerprint != before)
            #expect(after.credentials.expiresAt == Timestamp(microseconds: fixture.now.microseconds + 3_600_000_000).iso8601)
        }
    }

    @Test func fiftyConcurrentRequestsCauseOneRefreshAndAllGetTheNewToken() async throws {
        let provider = TestOAuthProvider()
        provider.set { $0.liveRefreshTokens = ["rt-seed"] }
        try await provider.serve { baseURL in
            let fixture = try await LifecycleFixture(baseURL: baseURL)
            let id = try await fixture.oauth2Connection(expiresIn: 60)
            let engine = try await fixture.token(member: nil)
            // 50 engine requests to `GET /v1/connections/{id}/credentials` at once.
            let tokens = try await Self.concurrentCredentialRequests(50, id: id, token: engine, fixture: fixture)
            #expect(provider.refreshGrants == 1)
            #expect(Set(tokens) == ["at-1"] && tokens.count == 50)
            #expect(try await fixture.eventTypes(id).filter { $0 == "connection.token-refreshed" }.count == 1)
            // Every read is in the audit trail.
            let reads = try await fixture.log.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM credential_reads") }
            #expect(reads == 50)
        }
    }

    /// The access tokens `count` simultaneous credential requests over HTTP (the server on a
    /// loopback port) were handed.
    static func concurrentCredentialRequests(_ count: Int, id: String, token: String, fixture: LifecycleFixture) async throws -> [String] {
        let tokens = Mutex<[String]>([])
        try await fixture.server(.live) { client in
            let url = "http://127.0.0.1:\(client.port ?? 0)/v1/connections/\(id)/credentials"
            try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<count {
                    group.addTask {
                        var request = HTTPClientRequest(url: url)
                        request.headers.add(name: "Authorization", value: "Bearer \(token)")
                        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(300))
                        let body = try await response.body.collect(upTo: 1 << 16)
                        let json = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
                        return json?["accessToken"] as? String ?? "HTTP \(response.status.code)"
                    }
                }
                for try await token in group { tokens.withLock { $0.append(token) } }
            }
        }
        return tokens.withLock { $0 }
    }

    @Test func twoCredlogsOnOneDatabaseRefreshOnceBetweenThem() async throws {
        let provider = TestOAuthProvider()
        provider.set { $0.liveRefreshTokens = ["rt-seed"] }
        try await provider.serve { baseURL in
            let fixture = try await LifecycleFixture(baseURL: baseURL)
            let id = try await fixture.oauth2Connection(expiresIn: 60)
            // A second credlog: its own connection pool, store, service and broker on the same file.
            let database = SQLiteDatabase(try CredlogDatabase.open(path: fixture.log.path))
            let store = CredlogDatabase.eventStore(database, chain: ChainHasher(key: fixture.log.keys.chainKey),
                                                   observers: [DataKeys.Shredder(), AccessTokens.Revoker(), InlineProjections()])
            let service = CommandService(store: store, vault: CredentialVault(database: database, keys: fixture.log.keys))
            let other = CredentialLifecycle(database: database, service: service, settings: LifecycleFixture.fastSettings,
                                            http: OutboundHTTP(timeout: .seconds(60), destinations: .anyAddress), callbackURL: "http://credlog.test/cb")
            provider.set { $0.accessTokenLifetime = 3600 }
            let tokens = try await withThrowingTaskGroup(of: String.self) { group in
                for n in 0..<20 {
                    let broker = n % 2 == 0 ? fixture.lifecycle.broker : other.broker
                    group.addTask {
                        let bytes = try await broker.credentials(id, context: fixture.context(.engine))
                        return (try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])?["accessToken"] as? String ?? ""
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(provider.refreshGrants == 1)
            #expect(Set(tokens) == ["at-1"])
        }
    }

    @Test func aProviderThatReturnsNoNewRefreshTokenKeepsTheOldOne() async throws {
        let provider = TestOAuthProvider()
        provider.set { $0.liveRefreshTokens = ["rt-seed"]; $0.rotates = false }
        try await provider.serve { baseURL in
            let fixture = try await LifecycleFixture(baseURL: baseURL)
            let id = try await fixture.oauth2Connection(expiresIn: 60)
            let handed = try await fixture.engineRead(id)
            #expect(handed["accessToken"] as? String == "at-1" && handed["refreshToken"] as? String == "rt-seed")
        }
    }

    @Test func invalidGrantTurnsTheConnectionInactiveWithTheProvidersReason() async throws {
        let provider = TestOAuthProvider()
        try await provider.serve { baseURL in
            let fixture = try await LifecycleFixture(baseURL: baseURL)
            let id = try await fixture.oauth2Connection(refreshToken: "rt-revoked", expiresIn: 60)
            await #expect(throws: ConnectionInactive.self) { _ = try await fixture.engineRead(id) }
            let connection = try #require(try await fixture.state(id))
            guard case .inactive(let inactive) = connection.status else { Issue.record("still active"); return }
            #expect(inactive.kind == .expired && inactive.reason.contains("invalid_grant: Token has been expired or revoked."))
            let history = try await fixture.log.database.read { db in try StatusHistoryQuery.history(of: id, db) }
            #expect(history.last?.toStatus == .inactive && history.last?.reason?.contains("invalid_grant") == true)
            #expect(history.last?.actorId == "system")
            // Time travel and the flow debugger tell the same.
            let detail = try await fixture.log.queries.connection(id, for: .init(.member("bob")))
            #expect(detail.status == "Inactive" && detail.statusReason?.contains("invalid_grant") == true)
        }
    }

    @Test func timeTravelAndTheFlowDebuggerShowTheRefreshAndTheExpiryWithItsReason() async throws {
        let provider = TestOAuthProvider()
        provider.set { $0.liveRefreshTokens = ["rt-seed"] }
        try await provider.serve { baseURL in
            let fixture = try await LifecycleFixture(baseURL: baseURL)
            let id = try await fixture.oauth2Connection(expiresIn: 60)
            _ = try await fixture.log.service.attach(flow: "triage", to: id, context: fixture.context(.member("bob")))
            fixture.advance(120)
            _ = try await fixture.engineRead(id)  // 10:02: refreshed
            let refreshedAt = fixture.now
            fixture.advance(3 * 3600)
            provider.revokeAll()
            _ = try? await fixture.engineRead(id)  // 13:02: due again; the refresh token was revoked
            let debugger = FlowDebugger(store: fixture.log.store, database: fixture.log.database)

            let then = try await debugger.diagnose(flow: "triage", at: Timestamp(microseconds: refreshedAt.microseconds + 60_000_000),
                                                   visibleProjects: nil)
            let before = try #require(then.connections.first)
            #expect(before.status == "Active" && before.credentialSource == "refreshed")
            #expect(before.verdict.contains("refreshed at 10:02"))
            #expect(before.events.contains { $0.type == "connection.token-refreshed" && $0.detail.contains("previous=fp:") })

            let later = try await debugger.diagnose(flow: "triage", at: fixture.now, visibleProjects: nil)
            let after = try #require(later.connections.first)
            #expect(after.status == "Inactive" && after.statusReason?.contains("invalid_grant") == true)
            #expect(later.verdict.contains("Inactive since 13:02") && later.verdict.contains("invalid_grant"))

            let past = try await fixture.log.queries.connection(id, at: .time(refreshedAt), for: .init(.member("bob")))
            #expect(past.status == "Active" && past.credentialSource == "refreshed" && past.credentialVersion == 3)
        }
    }

    @Test func anOutageInsideTheGracePeriodLeavesTheConnectionActiveAndOneBeyondItExpiresIt() async throws {
        let provider = TestOAuthProvider()
        provider.set { $0.liveRefreshTokens = ["rt-seed"]; $0.mode = .failing }
        try await provider.serve { baseURL in
            var settings = LifecycleFixture.fastSettings
            settings.gracePeriod = .seconds(3600)
            let fixture = try await LifecycleFixture(baseURL: baseURL, settings: settings)
            let id = try await fixture.oauth2Connection(accessToken: "at-still-good", expiresIn: 10 * 60)
            let before = try await fixture.log.eventCount()
            #expect(try await fixture.engineRead(id)["accessToken"] as? String == "at-still-good")
            // Right after a failure, reads do not wait for the provider again.
            let grants = provider.tokenRequests
            #expect(try await fixture.engineRead(id)["accessToken"] as? String == "at-still-good")
            #expect(provider.tokenRequests == grants, "no request within quietAfterFailure")
            fixture.advance(30 * 60)
            #expect(try await fixture.engineRead(id)["accessToken"] as? String == "at-still-good", "within the grace period")
            #expect(try await fixture.state(id)?.status == .active)
            #expect(try await fixture.log.eventCount() == before, "failures inside the grace period append nothing")
            let failures = try await fixture.log.database.read { db in
                try db.fetchOne(sql: "SELECT failures, last_error FROM refresh_failures WHERE connection_id = ?", arguments: [id])
            }
            let count: Int? = try failures?["failures"], lastError: String? = try failures?["last_error"]
            #expect(count == 2 && lastError?.contains("HTTP 500") == true)

            fixture.advance(31 * 60)
            await #expect(throws: ConnectionInactive.self) { _ = try await fixture.engineRead(id) }
            guard case .inactive(let inactive)? = try await fixture.state(id)?.status else { Issue.record("still active"); return }
            #expect(inactive.reason.contains("token refresh failing since 2036-11-22T10:00:00") && inactive.reason.contains("HTTP 500"))
        }
    }

    @Test func aProviderThatHangsCountsAsAnOutage() async throws {
        let provider = TestOAuthProvider()
        provider.set { $0.liveRefreshTokens = ["rt-seed"]; $0.mode = .hanging }
        try await provider.serve { baseURL in
            var settings = LifecycleFixture.fastSettings
            settings.attempts = 1
            let fixture = try await LifecycleFixture(baseURL: baseURL, settings: settings, timeout: .milliseconds(300))
            let id = try await fixture.oauth2Connection(expiresIn: 60)
            let result = try await fixture.lifecycle.broker.refreshIfDue(id, force: false, context: fixture.context(.system))
            guard case .failing(_, let error) = result else { Issue.record("expected failing, got \(result)"); return }
            #expect(error.contains("timed out"))
            #expect(try await fixture.state(id)?.status == .active)
        }
    }
}

/// The same, with real processes: several `credlog connection credentials` at once on one database.
@Suite("Token refresh across processes")
struct RefreshAcrossProcessesTests {
    @Test func fiveCredlogProcessesAskingAtOnceCauseOneRefresh() async throws {
        let provider = TestOAuthProvider()
        provider.set { $0.liveRefreshTokens = ["rt-seed"] }
        try await provider.serve { baseURL in
            var cli = try CLI()
            cli.environment["CREDLOG_ALLOW_PRIVATE_DESTINATIONS"] = "1"  // the provider is on loopback
            #expect(try cli.run(["init"]).status == 0)
            #expect(try cli.run(["project", "create", "acme", "--admin", "alice"]).status == 0)
            let pieceFile = cli.directory.appendingPathComponent("testmail.json")
            try Data(TestOAuthProvider.piece(baseURL: baseURL).utf8).write(to: pieceFile)
            let registered = try cli.run(["piece", "register", "--project", "acme", "--file", pieceFile.path, "--client-secret-stdin",
                                          "--as", "alice"], stdin: TestOAuthProvider.clientSecret)
            #expect(registered.status == 0, "\(registered.stderr)")
            let soon = Timestamp(microseconds: Timestamp.now().microseconds + 120_000_000).iso8601
            let id = try cli.run(["connection", "create", "--project", "acme", "--piece", "testmail", "--auth", "oauth2", "--name", "Mail",
                                  "--credentials-stdin", "--as", "alice"],
                                 stdin: #"{"accessToken":"at-seed","refreshToken":"rt-seed","expiresAt":"\#(soon)"}"#).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)

            let outputs = (0..<5).map { n in cli.directory.appendingPathComponent("read-\(n).json") }
            let processes = try outputs.map { output -> Process in
                _ = FileManager.default.createFile(atPath: output.path, contents: nil)
                let process = Process()
                process.executableURL = CLI.executable
                process.arguments = ["connection", "credentials", id, "--as", "engine"]
                process.currentDirectoryURL = cli.directory
                process.environment = cli.environment
                process.standardOutput = try FileHandle(forWritingTo: output)
                process.standardError = FileHandle.nullDevice
                try process.run()
                return process
            }
            for process in processes {
                while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
                #expect(process.terminationStatus == 0)
            }
            let tokens = try outputs.map { output in
                try (JSONSerialization.jsonObject(with: Data(contentsOf: output)) as? [String: Any])?["accessToken"] as? String
            }
            #expect(provider.refreshGrants == 1)
            #expect(Set(tokens) == ["at-1"])
            let log = try cli.run(["log", "--json"])
            #expect(log.stdout.components(separatedBy: "connection.token-refreshed").count == 2)
        }
    }
}
