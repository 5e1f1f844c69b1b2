import CredlogDomain
import CredlogEvents
import CredlogProjections

/// What nobody asks for but must happen: OAuth2 tokens refreshed ahead of expiry and at least
/// once a day (providers drop idle refresh tokens), credentials past their known expiry
/// (API keys, OAuth2 tokens without a refresh token) expired, and the project's webhooks warned
/// ahead of such an expiry (each at its own lead, once per credential). Run by `credlog serve` every
/// ``LifecycleSettings/sweepInterval``, and by `credlog sweep` (for cron).
public struct Sweeper: Sendable {
    let database: any SQLDatabase
    let service: CommandService
    let broker: CredentialBroker
    let checker: ConnectionChecker
    let settings: LifecycleSettings

    public init(database: any SQLDatabase, service: CommandService, broker: CredentialBroker, checker: ConnectionChecker,
                settings: LifecycleSettings) {
        self.database = database
        self.service = service
        self.broker = broker
        self.checker = checker
        self.settings = settings
    }

    /// What one sweep did, by connection id.
    public struct Report: Sendable, Equatable {
        public var refreshed: [String] = []
        public var expired: [String: String] = [:]
        public var failing: [String: String] = [:]
        /// OAuth2 connections credlog cannot refresh (no client registered for their piece), still valid.
        public var unrenewable: [String: String] = [:]
        /// Connections whose refresh raised an error other than the provider's (logged by the caller).
        public var errors: [String: String] = [:]
        /// Webhooks warned that a connection's credential expires soon, by connection id.
        public var warned: [String: [String]] = [:]
        /// Connections rechecked: whether their provider accepted the credential, by connection id.
        public var rechecked: [String: Bool] = [:]

        public init() {}
    }

    public func sweep(now: Timestamp) async throws -> Report {
        let soon = now + settings.refreshLead
        let (expiring, idle) = try await database.read { db in
            (try ExpiringQuery.connections(expiringBefore: soon, projects: nil, db),
             try ExpiringQuery.idleRefreshable(setBefore: now - settings.idleRefresh, db))
        }
        var report = Report()
        let context = { CommandContext(principal: .system, now: now, via: "sweeper") }
        for connection in expiring where !connection.renewsItself {
            guard let expiry = Timestamp(iso8601: connection.credentialExpiresAt), expiry <= now else { continue }
            let reason = connection.authType == AuthType.apiKey.rawValue
                ? "the API key's expiry date (\(connection.credentialExpiresAt)) has passed"
                : "the credential expired at \(connection.credentialExpiresAt) and cannot be renewed"
            do {
                if try await !service.expire(connection.id, reason: reason, context: context()).changedNothing {
                    report.expired[connection.id] = reason
                }
            } catch {
                report.errors[connection.id] = "\(error)"
            }
        }
        try await warn(now: now, report: &report)
        try await recheck(now: now, report: &report)
        let due = expiring.filter(\.renewsItself)
        let expiries = Dictionary(due.map { ($0.id, $0.credentialExpiresAt) }) { first, _ in first }
        for id in due.map(\.id) + idle.filter({ expiries[$0] == nil }) {
            do {
                // Idle ones are refreshed whatever their expiry; expiring ones only once due (a token
                // just issued with a short life is not, even when it expires within the lead).
                switch try await broker.refreshIfDue(id, force: expiries[id] == nil, context: context()) {
                case .refreshed: report.refreshed.append(id)
                case .expired(let reason): report.expired[id] = reason
                case .failing(_, let error): report.failing[id] = error
                case .notNeeded: break
                case .unavailable(let why):
                    guard let expiry = expiries[id], let time = Timestamp(iso8601: expiry), time <= now else {
                        report.unrenewable[id] = why
                        continue
                    }
                    let reason = "the access token expired at \(expiry) and cannot be renewed (\(why))"
                    if try await !service.expire(id, reason: DisplayText.reason.fitting(reason), context: context()).changedNothing {
                        report.expired[id] = reason
                    }
                }
            } catch {
                report.errors[id] = "\(error)"
            }
        }
        return report
    }

    /// With ``LifecycleSettings/recheckEvery`` set, rechecks the connections of the catalogue's
    /// pieces that have a validation request and were not checked (nor reconnected) for that long.
    private func recheck(now: Timestamp, report: inout Report) async throws {
        guard let every = settings.recheckEvery else { return }
        let pieces = service.pieces.builtIn.values.filter { $0.validation != nil }.map(\.id).sorted()
        let due = try await database.read { [settings] db in
            try ExpiringQuery.dueForRecheck(before: now - every, pieces: pieces, limit: settings.rechecksPerSweep, db)
        }
        for id in due {
            do {
                report.rechecked[id] = try await checker.check(id, context: CommandContext(principal: .system, now: now, via: "sweeper")).passed
            } catch {
                report.errors[id] = "\(error)"
            }
        }
    }

    /// Warns each webhook whose lead has come of each credential that credlog cannot renew (no
    /// refresh token, or no OAuth2 client registered for its piece) and that has not expired
    /// yet; the decider makes it once per credential and webhook.
    private func warn(now: Timestamp, report: inout Report) async throws {
        let horizon = now + .seconds(MembershipEvent.WebhookAdded.warnDaysAheadRange.upperBound * 86_400)
        let expiring = try await database.read { db in try ExpiringQuery.connections(expiringBefore: horizon, projects: nil, db) }
        var projects: [String: (webhooks: [MembershipEvent.WebhookAdded], renewable: Set<String>)] = [:]
        for connection in expiring {
            guard let expiry = Timestamp(iso8601: connection.credentialExpiresAt), expiry > now else { continue }
            if projects[connection.projectId] == nil {
                let state = try await service.loadProject(connection.projectId).state
                projects[connection.projectId] = (state.webhooks.values.sorted { $0.webhookId < $1.webhookId },
                                                  Set(service.pieces.pieces(in: state).filter(\.hasOAuth2Client).map(\.id)))
            }
            guard let project = projects[connection.projectId],
                  !(connection.renewsItself && project.renewable.contains(connection.piece)) else { continue }
            for webhook in project.webhooks where expiry - .seconds(webhook.warningLead * 86_400) <= now {
                do {
                    let outcome = try await service.warnExpiry(connection.id, webhook: webhook.webhookId, daysAhead: webhook.warningLead,
                                                               context: CommandContext(principal: .system, now: now, via: "sweeper"))
                    if !outcome.changedNothing { report.warned[connection.id, default: []].append(webhook.webhookId) }
                } catch {
                    report.errors[connection.id] = "\(error)"
                }
            }
        }
    }
}
