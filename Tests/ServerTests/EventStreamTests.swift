import AsyncHTTPClient
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
import NIOCore
import Testing

/// `GET /v1/events/stream` on live loopback servers: a consumer killed mid-stream resumes with
/// `Last-Event-ID` and has every event of its project exactly once while writers append (on
/// PostgreSQL, with the two halves on two servers); heartbeats; the end of a stream when its
/// token is revoked or the server shuts down; the cap on open streams. No wait here is a
/// deadline: each is a loop on what the stream says, with a generous bound for a broken build.
@Suite("Event stream", .serviceScope)
struct EventStreamTests {
    /// A server's environment over `database` (a second one over the same PostgreSQL database
    /// is another server), with fast heartbeats.
    static func environment(_ log: TemporaryLog, database: any SQLDatabase, streams: EventStreams) -> ServerEnvironment {
        let store = CredlogDatabase.eventStore(database, chain: ChainHasher(key: log.keys.chainKey),
                                               observers: [DataKeys.Shredder(), AccessTokens.Revoker(), InlineProjections()])
        let service = CommandService(store: store, vault: CredentialVault(database: database, keys: log.keys))
        let lifecycle = CredentialLifecycle(database: database, service: service, http: OutboundHTTP(destinations: .publicOnly),
                                            callbackURL: CallbackURL(ServerEnvironment.callbackURL(publicURL: "http://127.0.0.1:8080")))
        return ServerEnvironment(database: database, store: store, lifecycle: lifecycle, eventStreams: streams)
    }

    /// `environment` served on a free loopback port for the duration of `body`.
    static func serve(_ environment: ServerEnvironment, _ body: @Sendable (Int) async throws -> Void) async throws {
        var logger = Logger(label: "credlog-test")
        logger.logLevel = .error
        let app = try await CredlogServer.application(environment, host: "127.0.0.1", port: 0, logger: logger, background: false)
        try await app.test(.live) { client in try await body(try #require(client.port)) }
    }

    static let fast = EventStreams(heartbeat: .milliseconds(100), pollInterval: .milliseconds(20))

    @Test(arguments: TestBackend.available)
    func aConsumerKilledMidStreamResumesWithEveryEventExactlyOnce(backend: TestBackend) async throws {
        let log = try await TemporaryLog(backend: backend, durability: .normal)
        try await log.seedProject("acme")
        _ = try await log.service.createProject("globex", admin: "carol", context: CommandContext(principal: .system))
        let alice = try await log.issueToken(member: "alice").token
        let carol = try await log.issueToken(member: "carol", project: "globex").token
        let sentinel = "SENTINEL-stream-7c1"
        var acmeSecret = Array(#"{"apiKey":"\#(sentinel)"}"#.utf8)
        let acmeId = try #require(try await log.service.createConnection(
            projectId: "acme", piece: "hubspot", authType: .apiKey, name: "Gmail", credentials: &acmeSecret,
            context: CommandContext(principal: .member("bob"))).stream.connectionId)
        var secret = Array(#"{"apiKey":"k-2"}"#.utf8)
        let globexId = try #require(try await log.service.createConnection(
            projectId: "globex", piece: "hubspot", authType: .apiKey, name: "Slack", credentials: &secret,
            context: CommandContext(principal: .member("carol"))).stream.connectionId)
        // On PostgreSQL the consumer's two halves and the writers use two servers, each with its own pool.
        let second = backend == .postgres ? try await CredlogDatabase.open(try StoreLocation(log.path)) : log.database
        let first = Self.environment(log, database: log.database, streams: Self.fast)
        let other = Self.environment(log, database: second, streams: Self.fast)
        try await Self.serve(first) { firstPort in
            try await Self.serve(other) { otherPort in
                // Each project's last position, once the writers are done.
                let finalPositions = Shared<[String: Int64]?>(nil)
                let writers = Task {
                    for round in 0..<60 {
                        let service = round % 2 == 0 ? first.service : other.service
                        _ = try await service.rename(acmeId, to: "Gmail \(round)", context: CommandContext(principal: .member("alice")))
                        if round % 3 == 0 {
                            _ = try await service.rename(globexId, to: "Slack \(round)", context: CommandContext(principal: .member("carol")))
                        }
                    }
                    let last = try await log.allEvents().reduce(into: [String: Int64]()) { $0[$1.projectId] = $1.position }
                    finalPositions.update { $0 = last }
                }
                let done: @Sendable (String, Int64?) -> Bool = { project, last in
                    finalPositions.current.map { last ?? 0 >= $0[project] ?? 0 } ?? false
                }
                let client = HTTPClient.shared
                // Carol follows globex meanwhile, to the end.
                let globex = Task {
                    var consumer = SSEConsumer(client: client, port: firstPort, token: carol)
                    return try await consumer.read { _, last in done("globex", last) }
                }
                // Alice's consumer is killed after a few events (mid-stream: the writers are still going) …
                var killed = SSEConsumer(client: client, port: otherPort, token: alice)
                let before = try await killed.read { events, _ in events.count >= 8 }
                let lastSeen = try #require(before.last?.id)
                // … and reconnects to the other server where it left off.
                var resumed = SSEConsumer(client: client, port: firstPort, token: alice, lastEventID: lastSeen)
                let after = try await resumed.read { _, last in done("acme", last) }
                try await writers.value
                let acme = try await log.allEvents().filter { $0.projectId == "acme" }.map(\.position)
                let seen = (before + after).map(\.id)
                #expect(seen == acme, "every acme event once, in order")
                #expect(!after.isEmpty, "the resumed consumer read on")
                let globexEvents = try await globex.value
                let globexPositions = try await log.allEvents().filter { $0.projectId == "globex" }.map(\.position)
                #expect(globexEvents.map(\.id) == globexPositions, "carol sees globex's events, none of acme's")
                #expect(!globexEvents.contains { $0.data.contains("\"project\":\"acme\"") })
                #expect((before + after).allSatisfy { $0.data.contains("\"project\":\"acme\"") && !$0.data.contains(sentinel) })
            }
        }
    }

    @Test func anIdleStreamSendsHeartbeatsAndEndsWhenItsTokenIsRevoked() async throws {
        let fixture = try await APIFixture()
        let bob = try await fixture.log.issueToken(member: "bob")
        let environment = Self.environment(fixture.log, database: fixture.log.database, streams: Self.fast)
        try await Self.serve(environment) { port in
            let client = HTTPClient.shared
            let head = try await fixture.log.store.headPosition()
            var consumer = SSEConsumer(client: client, port: port, token: bob.token, lastEventID: head)
            let heartbeats = Shared(0)
            let revoked = Shared(false)
            let events = try await consumer.read { _, _ in
                // Two heartbeats on an idle stream, then the token goes; the stream must end by itself.
                if heartbeats.current >= 2, revoked.update({ revoking in defer { revoking = true }; return !revoking }) {
                    Task { try await fixture.log.revokeToken(bob.id) }
                }
                return false
            } onHeartbeat: {
                heartbeats.update { $0 += 1 }
            }
            #expect(consumer.ended, "the stream ended when its token was revoked")
            #expect(events.map(\.type) == ["project.token-revoked"] || events.isEmpty,
                    "nothing but perhaps the revocation itself was sent: \(events.map(\.type))")
            #expect(heartbeats.current >= 2)
        }
    }

    @Test func streamsPastTheCapAreRefusedUntilOneEnds() async throws {
        let fixture = try await APIFixture()
        let environment = Self.environment(fixture.log, database: fixture.log.database,
                                           streams: EventStreams(limit: 1, heartbeat: .milliseconds(50), pollInterval: .milliseconds(10)))
        try await Self.serve(environment) { port in
            let client = HTTPClient.shared
            let holder = Task {
                var consumer = SSEConsumer(client: client, port: port, token: fixture.bob)
                _ = try await consumer.read { _, _ in false }
            }
            while environment.eventStreams.count == 0 { try await Task.sleep(for: .milliseconds(10)) }
            let refused = try await SSEConsumer.status(client: client, port: port, token: fixture.alice)
            #expect(refused.status == 503 && refused.body.contains("event streams"), "\(refused)")
            holder.cancel()
            // The server notices the consumer has gone at its next heartbeat, and the place is free again.
            var status = 503
            for _ in 0..<60_000 where status == 503 {
                try await Task.sleep(for: .milliseconds(10))
                status = try await SSEConsumer.status(client: client, port: port, token: fixture.alice).status
            }
            #expect(status == 200)
        }
    }

    @Test func aGracefulShutdownEndsOpenStreams() async throws {
        let fixture = try await APIFixture()
        let environment = Self.environment(fixture.log, database: fixture.log.database, streams: EventStreams())
        let client = HTTPClient.shared
        let reading = Shared<Task<Bool, any Error>?>(nil)
        // The live test server shuts down gracefully when this closure returns: it must not wait
        // for a stream that would otherwise never end (15 s heartbeats, no events).
        try await Self.serve(environment) { port in
            let task = Task {
                var consumer = SSEConsumer(client: client, port: port, token: fixture.bob)
                _ = try await consumer.read { _, _ in false }
                return consumer.ended
            }
            reading.update { $0 = task }
            while environment.eventStreams.count == 0 { try await Task.sleep(for: .milliseconds(10)) }
        }
        let task = try #require(reading.current)
        #expect(try await task.value, "the stream ended when the server shut down")
        #expect(environment.eventStreams.count == 0)
    }

    @Test func badPositionsAreRefusedBeforeAnyStreamOpens() async throws {
        let fixture = try await APIFixture()
        try await fixture.test { api in
            for (query, header) in [("?after=-1", nil), ("?after=x", nil), ("", "abc"), ("", "-5"), ("", "99999999999999999999")] as [(String, String?)] {
                var headers: HTTPFields = [:]
                if let header { headers[HTTPField.Name("Last-Event-ID")!] = header }
                let response = try await api.call(.get, "/v1/events/stream" + query, token: fixture.alice, headers: headers)
                #expect(response.status == 400 && response.isProblem, "\(query) \(header ?? "")")
            }
            #expect(try await api.call(.get, "/v1/events/stream").status == 401)
        }
        #expect(fixture.environment.eventStreams.count == 0)
    }
}

/// A Server-Sent Events consumer of `/v1/events/stream` over AsyncHTTPClient.
struct SSEConsumer {
    struct Event: Equatable {
        var id: Int64
        var type: String
        var data: String
    }

    let client: HTTPClient
    let port: Int
    let token: String
    var lastEventID: Int64?
    /// Whether the server ended the stream (rather than the consumer stopping).
    var ended = false

    init(client: HTTPClient, port: Int, token: String, lastEventID: Int64? = nil) {
        (self.client, self.port, self.token, self.lastEventID) = (client, port, token, lastEventID)
    }

    func request() -> HTTPClientRequest {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/events/stream")
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        if let lastEventID { request.headers.add(name: "Last-Event-ID", value: String(lastEventID)) }
        return request
    }

    /// Reads events until `enough(events so far, last id)` says so (asked after each event and
    /// each heartbeat) or the server ends the stream; then drops the connection.
    mutating func read(until enough: @Sendable ([Event], Int64?) -> Bool,
                       onHeartbeat: @Sendable () -> Void = {}) async throws -> [Event] {
        let response = try await client.execute(request(), timeout: .seconds(600))
        try #require(response.status == .ok, "\(response.status)")
        #expect(response.headers.first(name: "Content-Type") == "text/event-stream")
        var events: [Event] = []
        var pending = ""
        for try await chunk in response.body {
            pending += String(buffer: chunk)
            while let end = pending.range(of: "\n\n") {
                let block = pending[..<end.lowerBound]
                pending = String(pending[end.upperBound...])
                var event = Event(id: 0, type: "", data: "")
                for line in block.split(separator: "\n") {
                    if line.hasPrefix(": heartbeat") { onHeartbeat() }
                    if line.hasPrefix("id: ") { event.id = Int64(line.dropFirst(4)) ?? -1 }
                    if line.hasPrefix("event: ") { event.type = String(line.dropFirst(7)) }
                    if line.hasPrefix("data: ") { event.data = String(line.dropFirst(6)) }
                }
                if event.id != 0 {
                    events.append(event)
                    lastEventID = event.id
                }
                if enough(events, lastEventID) { return events }
            }
        }
        ended = true
        return events
    }

    /// The status and (for a refusal) the body of a stream request; an accepted stream is dropped at once.
    static func status(client: HTTPClient, port: Int, token: String) async throws -> (status: Int, body: String) {
        let consumer = SSEConsumer(client: client, port: port, token: token)
        let response = try await client.execute(consumer.request(), timeout: .seconds(600))
        guard response.status == .ok else {
            return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 16)))
        }
        return (200, "")
    }
}
