import CredlogDomain
import CredlogEvents
import CredlogTestSupport
import Foundation

/// Drives a log with random commands of every kind, by random callers (admins, members,
/// outsiders, the engine, the system), many of them refused; records each connection's
/// state after every command, for time-travel checks.
struct RandomHistory {
    let log: TemporaryLog
    var random: SeededRandom
    var clock = Timestamp(iso8601: "2026-11-01T08:00:00Z")!
    var connections: [String] = []
    /// After each command: the time it was recorded at and every connection's state then.
    var checkpoints: [(time: Timestamp, states: [String: ConnectionState])] = []
    var refused = 0

    static let projects = ["acme", "globex"]
    static let people = ["alice", "bob", "carol", "dave", "gina"]
    static let names = ["Gmail - Support", "HubSpot", "Ünïcödé Straße", "日本語の接続", "100% real", "under_score", "'; DROP TABLE x; --"]

    init(log: TemporaryLog, seed: UInt64) {
        self.log = log
        random = SeededRandom(seed: seed)
    }

    mutating func pick<T>(_ values: [T]) -> T { values[Int.random(in: 0..<values.count, using: &random)] }

    mutating func principal() -> Principal {
        switch Int.random(in: 0..<10, using: &random) {
        case 0: .system
        case 1: .engine
        default: .member(pick(Self.people))
        }
    }

    mutating func context() -> CommandContext {
        clock = Timestamp(microseconds: clock.microseconds + Int64.random(in: 1...600, using: &random) * 1_000_000)
        return CommandContext(principal: principal(), now: clock)
    }

    mutating func credentials(for authType: AuthType) -> [UInt8] {
        let valid: String
        switch authType {
        case .apiKey: valid = #"{"apiKey":"k-\#(Int.random(in: 0..<5, using: &random))"}"#
        case .oauth2: valid = #"{"accessToken":"at","expiresAt":"2026-11-0\#(Int.random(in: 1...9, using: &random))T12:00:00Z"}"#
        case .basic: valid = #"{"username":"u","password":"p"}"#
        case .custom: valid = #"{"token":"t"}"#
        }
        return Array((Int.random(in: 0..<8, using: &random) == 0 ? #"{"wrong":1}"# : valid).utf8)
    }

    /// Runs `count` random commands.
    mutating func run(_ count: Int) async throws {
        for project in Self.projects {
            _ = try await log.service.createProject(project, admin: "alice", context: CommandContext(principal: .system, now: clock))
            _ = try await log.service.addMember("bob", role: .member, to: project, context: CommandContext(principal: .member("alice"), now: clock))
            _ = try await log.service.addMember("carol", role: .admin, to: project, context: CommandContext(principal: .member("alice"), now: clock))
        }
        for _ in 0..<count {
            try await step()
            var states: [String: ConnectionState] = [:]
            for id in connections { states[id] = try await log.service.loadConnection(id).state }
            checkpoints.append((clock, states))
        }
    }

    mutating func step() async throws {
        let context = context()
        let service = log.service
        let id = connections.isEmpty ? "conn_none" : pick(connections)
        do {
            switch Int.random(in: 0..<14, using: &random) {
            case 0, 1, 12:
                let authType = pick(AuthType.allCases)
                var secret = credentials(for: authType)
                let outcome = try await service.createConnection(projectId: pick(Self.projects), piece: pick(["gmail", "acme-crm", "legacy-erp", "billing-api"]),
                                                                 authType: authType, name: pick(Self.names), credentials: &secret, context: context)
                if let created = outcome.stream.connectionId { connections.append(created) }
            case 2:
                let authType = try await service.loadConnection(id).state.connection?.authType ?? .apiKey
                var secret = credentials(for: Int.random(in: 0..<6, using: &random) == 0 ? pick(AuthType.allCases) : authType)
                _ = try await service.reconnect(id, credentials: &secret, context: context)
            case 3: _ = try await service.rename(id, to: pick(Self.names + [""]), context: context)
            case 4: _ = try await service.expire(id, reason: "token expired", context: context)
            case 5: _ = try await service.revoke(id, reason: "leaked", context: context)
            case 6 where Int.random(in: 0..<3, using: &random) == 0: _ = try await service.delete(id, context: context)
            case 6, 7: _ = try await service.attach(flow: "flow-\(Int.random(in: 0..<4, using: &random))", to: id, context: context)
            case 8: _ = try await service.detach(flow: "flow-\(Int.random(in: 0..<4, using: &random))", from: id, context: context)
            case 9: _ = try await service.addMember(pick(Self.people), role: pick(Role.allCases), to: pick(Self.projects), context: context)
            case 13:
                // The engine records a token refresh (refused unless the connection is an active OAuth2 one).
                let current = try await service.loadConnection(id).state.connection?.credentials.fingerprint ?? "fp:none"
                var secret = Array(#"{"accessToken":"refreshed-\#(Int.random(in: 0..<1000, using: &random))","expiresAt":"2026-12-01T00:00:00Z"}"#.utf8)
                _ = try await service.recordRefresh(id, credentials: &secret, replacing: current,
                                                    context: CommandContext(principal: .engine, now: context.now))
            case 10: _ = try await service.changeRole(of: pick(Self.people), to: pick(Role.allCases), in: pick(Self.projects), context: context)
            default: _ = try await service.removeMember(pick(Self.people), from: pick(Self.projects), context: context)
            }
        } catch is DomainError {
            refused += 1
        }
    }
}
