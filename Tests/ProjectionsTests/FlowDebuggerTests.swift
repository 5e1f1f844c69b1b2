import CredlogDomain
import CredlogEvents
import CredlogProjections
import CredlogTestSupport
import Testing

@Suite("Flow debugging")
struct FlowDebuggerTests {
    static func at(_ time: String) -> Timestamp { Timestamp(iso8601: "2027-01-15T\(time):00Z")! }

    /// support-triage uses Gmail; the token expires at 10:02, run 4812 fails at 10:05, alice reconnects at 11:30.
    func story() async throws -> (TemporaryLog, String) {
        let log = try await TemporaryLog(durability: .normal)
        try await log.seedProject()
        var secret = Array(#"{"accessToken":"at-1","expiresAt":"2027-01-15T10:00:00Z"}"#.utf8)
        let gmail = try #require(try await log.service.createConnection(
            projectId: "acme", piece: "gmail", authType: .oauth2, name: "Gmail - Support", credentials: &secret,
            context: CommandContext(principal: .member("bob"), now: Self.at("09:00"))).stream.connectionId)
        _ = try await log.service.attach(flow: "support-triage", to: gmail, context: CommandContext(principal: .member("bob"), now: Self.at("09:10")))
        _ = try await log.service.expire(gmail, reason: "token expired", context: CommandContext(principal: .engine, now: Self.at("10:02")))
        var fresh = Array(#"{"accessToken":"at-2","expiresAt":"2027-01-22T10:00:00Z"}"#.utf8)
        _ = try await log.service.reconnect(gmail, credentials: &fresh, context: CommandContext(principal: .member("alice"), now: Self.at("11:30")))
        return (log, gmail)
    }

    func diagnose(_ log: TemporaryLog, at time: String) async throws -> FlowDiagnosis {
        try await FlowDebugger(store: log.store, database: log.database)
            .diagnose(flow: "support-triage", at: Self.at(time), visibleProjects: ["acme"])
    }

    @Test func aRunThatFailedWhileTheTokenWasExpired() async throws {
        let (log, gmail) = try await story()
        let diagnosis = try await diagnose(log, at: "10:05")
        let connection = try #require(diagnosis.connections.first)
        #expect(diagnosis.connections.count == 1)
        #expect(connection.connectionId == gmail)
        #expect(connection.status == "Inactive")
        #expect(connection.statusReason == "expired: token expired")
        #expect(connection.statusChangedBy == "engine")
        #expect(connection.reconnectedBy == "alice")
        #expect(connection.events.map(\.type) == ["connection.created", "connection.attached-to-flow", "connection.expired",
                                                  "connection.reconnected"])
        #expect(diagnosis.verdict == "Gmail - Support (gmail) was Inactive since 10:02 (expired: token expired); reconnected at 11:30 by alice")
    }

    @Test func aRunAfterTheReconnectFindsEverythingActive() async throws {
        let (log, _) = try await story()
        let diagnosis = try await diagnose(log, at: "11:45")
        #expect(diagnosis.connections.first?.status == "Active")
        #expect(diagnosis.verdict.hasPrefix("every connection of flow support-triage was Active at 11:45"))
    }

    @Test func anActiveConnectionWithAnExpiredTokenIsPointedOut() async throws {
        let (log, _) = try await story()
        let diagnosis = try await diagnose(log, at: "10:01")
        #expect(diagnosis.connections.first?.status == "Active")
        #expect(diagnosis.verdict.contains("but its token had expired at 10:00"))
    }

    @Test func beforeTheFlowUsedTheConnection() async throws {
        let (log, _) = try await story()
        #expect(try await diagnose(log, at: "09:05").verdict.hasPrefix("flow support-triage was using no connection"))
    }

    @Test func anotherProjectsConnectionsAreNotShown() async throws {
        let (log, _) = try await story()
        let diagnosis = try await FlowDebugger(store: log.store, database: log.database)
            .diagnose(flow: "support-triage", at: Self.at("10:05"), visibleProjects: ["globex"])
        #expect(diagnosis.connections.isEmpty)
    }
}
