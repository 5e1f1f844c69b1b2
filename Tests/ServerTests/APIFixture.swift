import CredlogDomain
import CredlogEvents
import CredlogLifecycle
import CredlogServer
import CredlogTestSupport
import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization

/// A temporary credlog with two projects and a token per role, served by the real router.
/// `acme`: alice (admin), bob (member), the engine; `globex`: carol (admin).
final class APIFixture: @unchecked Sendable {
    let log: TemporaryLog
    let environment: ServerEnvironment
    let logs = LogCapture()
    var alice = "", bob = "", engine = "", carol = ""
    var aliceTokenId = ""

    /// `wrapping` replaces the server's store with one built around the real one.
    /// `http`: how the lifecycle reaches providers (public addresses only, as a server does by default).
    /// `clock`: the server's time (token expiry, sessions, the decision time of commands).
    init(wrapping: ((any EventStore) -> any EventStore)? = nil, publicURL: String = "http://127.0.0.1:8080",
         limiter: RefusalLimiter = RefusalLimiter(), http: OutboundHTTP = OutboundHTTP(destinations: .publicOnly),
         clock: @escaping @Sendable () -> Timestamp = { .now() }, sessionPolicy: SessionPolicy = SessionPolicy()) async throws {
        let log = try await TemporaryLog()
        self.log = log
        try await log.seedProject("acme")
        _ = try await log.service.createProject("globex", admin: "carol", context: CommandContext(principal: .system))
        let store = wrapping?(log.store) ?? log.store
        let lifecycle = CredentialLifecycle(database: log.database, service: CommandService(store: store, vault: log.vault),
                                            http: http, callbackURL: CallbackURL(ServerEnvironment.callbackURL(publicURL: publicURL)))
        environment = ServerEnvironment(database: log.database, store: store, lifecycle: lifecycle, publicURL: publicURL,
                                        sessionPolicy: sessionPolicy, clock: clock, limiter: limiter)
        (alice, aliceTokenId) = try await log.issueToken(member: "alice")
        bob = try await log.issueToken(member: "bob").token
        engine = try await log.issueToken(member: nil).token
        carol = try await log.issueToken(member: "carol", project: "globex").token
    }

    /// Runs `body` against the application over Hummingbird's router test client.
    func test(_ body: @Sendable (APIClient) async throws -> Void) async throws {
        var logger = Logger(label: "credlog-test") { [logs] _ in logs.handler() }
        logger.logLevel = .trace
        let app = Application(router: try await CredlogServer.router(environment), logger: logger)
        try await app.test(.router) { client in try await body(APIClient(client: client)) }
    }

    /// Every event in the log, to check that a refused request changed nothing.
    func events() async throws -> [RecordedEvent] { try await log.allEvents() }

    /// Creates a connection in `acme` through the service (as alice), returning its id.
    func createConnection(name: String = "Gmail", piece: String = "acme-crm", json: String = #"{"apiKey":"k-1"}"#,
                          auth: AuthType = .apiKey, project: String = "acme", by admin: String = "alice") async throws -> String {
        var secret = Array(json.utf8)
        let outcome = try await log.service.createConnection(projectId: project, piece: piece, authType: auth, name: name,
                                                             credentials: &secret, context: CommandContext(principal: .member(admin)))
        return outcome.stream.connectionId ?? ""
    }
}

/// One response, read whole.
struct APIResponse {
    var status: Int
    var headers: HTTPFields
    var text: String

    var json: Any? { try? JSONSerialization.jsonObject(with: Data(text.utf8)) }
    var object: [String: Any] { json as? [String: Any] ?? [:] }
    var array: [[String: Any]] { json as? [[String: Any]] ?? [] }
    /// The objects of a page's list (`entries` of an audit page, `changes` of a history page).
    func items(_ key: String) -> [[String: Any]] { object[key] as? [[String: Any]] ?? [] }
    var contentType: String { headers[.contentType] ?? "" }
    var isProblem: Bool { contentType == "application/problem+json" && object["status"] as? Int == status }
}

/// A thin client: a method, a path, a token, maybe a body and headers.
struct APIClient {
    let client: any TestClientProtocol

    func call(_ method: HTTPRequest.Method, _ uri: String, token: String? = nil, json: String? = nil,
              form: String? = nil, headers extra: HTTPFields = [:]) async throws -> APIResponse {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        if json != nil { headers[.contentType] = "application/json" }
        if form != nil { headers[.contentType] = "application/x-www-form-urlencoded" }
        let body = (json ?? form).map { ByteBuffer(string: $0) }
        return try await client.execute(uri: uri, method: method, headers: headers, body: body) { response in
            APIResponse(status: Int(response.status.code), headers: response.headers, text: String(buffer: response.body))
        }
    }
}
