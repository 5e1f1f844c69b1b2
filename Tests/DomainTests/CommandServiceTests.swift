import CredlogDomain
import CredlogEvents
import CredlogTestSupport
import Foundation
import Testing

/// The shell around the deciders, on a real SQLite log.
@Suite("Command service")
struct CommandServiceTests {
    func ctx(_ who: Principal, key: String? = nil) -> CommandContext { CommandContext(principal: who, idempotencyKey: key) }

    func create(_ log: TemporaryLog, name: String = "Gmail", json: String = #"{"apiKey":"k-1"}"#,
                by who: Principal = .member("bob"), key: String? = nil) async throws -> String {
        var secret = Array(json.utf8)
        let outcome = try await log.service.createConnection(projectId: "acme", piece: "hubspot", authType: .apiKey, name: name,
                                                             credentials: &secret, context: ctx(who, key: key))
        #expect(secret.allSatisfy { $0 == 0 }, "the caller's plaintext buffer is wiped")
        return try #require(outcome.stream.connectionId)
    }

    /// Runs a command that must be refused; checks that the log did not change and the refusal was kept.
    func expectRefused(_ log: TemporaryLog, command: String, by who: String, _ body: () async throws -> Void) async throws -> Error? {
        let before = try await log.allEvents()
        let refusalsBefore = try await log.store.refusals().count
        var caught: Error?
        do { try await body() } catch { caught = error }
        #expect(caught != nil, "\(command) by \(who) must be refused")
        #expect(try await log.allEvents() == before, "a refusal appends nothing")
        let refusals = try await log.store.refusals()
        #expect(refusals.count == refusalsBefore + 1)
        #expect(refusals.last?.command == command)
        #expect(refusals.last?.actorId == who)
        return caught
    }

    @Test func refusedCommandsLeaveTheLogUnchangedAndAnAuditRecord() async throws {
        let log = try await TemporaryLog()
        try await log.seedProject()
        let id = try await create(log)
        _ = try await expectRefused(log, command: "connection.rename", by: "bob") {
            _ = try await log.service.rename(id, to: "Mine", context: ctx(.member("bob")))
        }
        _ = try await expectRefused(log, command: "connection.rename", by: "mallory") {
            _ = try await log.service.rename(id, to: "Mine", context: ctx(.member("mallory")))
        }
        _ = try await expectRefused(log, command: "connection.rename", by: "alice") {
            _ = try await log.service.rename(id, to: String(repeating: "x", count: 10_000), context: ctx(.member("alice")))
        }
        _ = try await expectRefused(log, command: "connection.rename", by: "alice") {
            _ = try await log.service.rename(id, to: "nul\u{0}byte", context: ctx(.member("alice")))
        }
        _ = try await expectRefused(log, command: "connection.rename", by: "alice") {
            _ = try await log.service.rename("conn_unknown", to: "x", context: ctx(.member("alice")))
        }
        _ = try await expectRefused(log, command: "connection.expire", by: "alice") {
            _ = try await log.service.expire(id, reason: "x", context: ctx(.member("alice")))
        }
        _ = try await expectRefused(log, command: "connection.reconnect", by: "alice") {
            var wrong = Array(#"{"username":"u","password":"p"}"#.utf8)
            _ = try await log.service.reconnect(id, credentials: &wrong, context: ctx(.member("alice")))
        }
        _ = try await expectRefused(log, command: "connection.create", by: "bob") {
            var malformed = Array("{oops".utf8)
            _ = try await log.service.createConnection(projectId: "acme", piece: "hubspot", authType: .apiKey, name: "x",
                                                       credentials: &malformed, context: ctx(.member("bob")))
        }
        _ = try await expectRefused(log, command: "member.add", by: "bob") {
            _ = try await log.service.addMember("carol", role: .admin, to: "acme", context: ctx(.member("bob")))
        }
        let dataKeys = try await log.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM data_keys") }
        #expect(dataKeys == 1, "a refused create leaves no data key behind: keys are stored with their first event")
        let refusal = try #require(try await log.store.refusals().first)
        #expect(refusal.actorRole == "member")
        #expect(refusal.reason.contains("forbidden"))
    }

    @Test func anotherProjectsConnectionIsInvisible() async throws {
        let log = try await TemporaryLog()
        try await log.seedProject()
        _ = try await log.service.createProject("globex", admin: "gina", context: ctx(.system))
        let id = try await create(log)
        let error = try await expectRefused(log, command: "connection.revoke", by: "gina") {
            _ = try await log.service.revoke(id, reason: "mine now", context: ctx(.member("gina")))
        }
        #expect(error as? DomainError == .notFound("connection \(id)"))
    }

    @Test func aRetriedCommandWithTheSameKeyAppendsNothingNewAndReturnsTheFirstResult() async throws {
        let log = try await TemporaryLog()
        try await log.seedProject()
        let first = try await create(log, key: "req-1")
        let countAfterFirst = try await log.eventCount()
        let second = try await create(log, key: "req-1")
        #expect(second == first)
        #expect(try await log.eventCount() == countAfterFirst)

        let rename = try await log.service.rename(first, to: "Gmail 2", context: ctx(.member("alice"), key: "req-2"))
        let again = try await log.service.rename(first, to: "Gmail 2", context: ctx(.member("alice"), key: "req-2"))
        #expect(again.append?.positions == rename.append?.positions)
        #expect(again.append?.isReplay == true)

        await #expect(throws: StoreError.idempotencyKeyReused(key: "req-2")) {
            _ = try await log.service.rename(first, to: "Other", context: ctx(.member("alice"), key: "req-2"))
        }
        #expect(try await log.eventCount() == countAfterFirst + 1)
    }

    @Test func concurrentCommandsOnOneConnectionAreAllKeptByRetrying() async throws {
        let log = try await TemporaryLog()
        try await log.seedProject()
        let id = try await create(log)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for flow in 0..<24 {
                group.addTask { _ = try await log.service.attach(flow: "flow-\(flow)", to: id, context: ctx(.member("bob"))) }
            }
            try await group.waitForAll()
        }
        let (state, version) = try await log.service.loadConnection(id)
        #expect(state.connection?.flows.count == 24)
        #expect(version == 25)
        let report = try await ChainVerifier(chain: ChainHasher(key: log.keys.chainKey)).verify(log.database)
        #expect(report.isIntact)
        #expect(report.eventCount == 3 + 24)
    }

    @Test func theEngineReadsCredentialsAndNobodyElseDoes() async throws {
        let log = try await TemporaryLog()
        try await log.seedProject()
        let id = try await create(log, json: #"{"apiKey":"first"}"#)
        var plaintext = try await log.service.revealCredentials(id, context: ctx(.engine))
        #expect(String(decoding: plaintext, as: UTF8.self) == #"{"apiKey":"first"}"#)
        Sodium.wipe(&plaintext)
        var rotated = Array(#"{"apiKey":"second"}"#.utf8)
        _ = try await log.service.reconnect(id, credentials: &rotated, context: ctx(.member("alice")))
        #expect(String(decoding: try await log.service.revealCredentials(id, context: ctx(.engine)), as: UTF8.self) == #"{"apiKey":"second"}"#)
        await #expect(throws: DomainError.self) { _ = try await log.service.revealCredentials(id, context: ctx(.member("alice"))) }
    }
}
