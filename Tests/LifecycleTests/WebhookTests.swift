import CredlogDomain
import CredlogEvents
import CredlogLifecycle
import CredlogProjections
import CredlogTestSupport
import Foundation
import GRDB
import Testing

/// Notifications to webhooks: signed, from a durable outbox fed by the log.
@Suite("Webhook notifications")
struct WebhookTests {
    @Test func inactiveAndRecoveredAreDeliveredSignedOncePerDeliveryIdWithRetries() async throws {
        let receiver = WebhookReceiver()
        try await receiver.serve { hook in
            let fixture = try await LifecycleFixture(baseURL: "http://127.0.0.1:9")
            let service = fixture.log.service
            let before = try await fixture.log.eventCount()
            await #expect(throws: DomainError.self, "only admins add webhooks") {
                _ = try await service.addWebhook(url: hook, to: "acme", context: fixture.context(.member("bob")))
            }
            await #expect(throws: DomainError.self) {
                _ = try await service.addWebhook(url: "ftp://example.com/x", to: "acme", context: fixture.context(.member("alice")))
            }
            #expect(try await fixture.log.eventCount() == before)
            let added = try await service.addWebhook(url: hook, to: "acme", context: fixture.context(.member("alice")))
            receiver.expectSecret(added.secret)
            // The secret is sealed in the log: only its fingerprint shows.
            #expect(!(try await fixture.log.storedBytes()).contains(bytes: Array(added.secret.utf8)))

            var key = Array(#"{"apiKey":"k-1"}"#.utf8)
            let id = try await service.createConnection(projectId: "acme", piece: "hubspot", authType: .apiKey, name: "HubSpot",
                                                        credentials: &key, context: fixture.context(.member("bob"))).stream.connectionId ?? ""
            _ = try await service.expire(id, reason: "key rotated by the provider", context: fixture.context(.system))

            let first = try await fixture.lifecycle.round(now: fixture.now, sweeping: false)
            #expect(first.enqueued == 1 && first.deliveries.map(\.delivered) == [true])
            let inactive = try #require(receiver.received.first)
            #expect(inactive.signatureValid)
            #expect(inactive.body["type"] as? String == "connection.inactive" && inactive.body["reason"] as? String == "expired: key rotated by the provider")
            #expect((inactive.body["connection"] as? [String: Any])?["name"] as? String == "HubSpot")
            #expect(inactive.body["deliveryId"] as? String == inactive.deliveryId)

            // Nothing more to send; a rebuild of the read models sends nothing again.
            try await ProjectionRunner(database: fixture.log.database).rebuild()
            let idle = try await fixture.lifecycle.round(now: fixture.now, sweeping: false)
            #expect(idle.enqueued == 0 && idle.deliveries.isEmpty)

            // The receiver fails: the recovery is retried after a back-off, with the same delivery id.
            receiver.answer(503)
            var fresh = Array(#"{"apiKey":"k-2"}"#.utf8)
            _ = try await service.reconnect(id, credentials: &fresh, context: fixture.context(.member("alice")))
            let failed = try await fixture.lifecycle.round(now: fixture.now, sweeping: false)
            #expect(failed.deliveries.map(\.delivered) == [false] && failed.deliveries.first?.error == "HTTP 503")
            let tooSoon = try await fixture.lifecycle.round(now: fixture.now, sweeping: false)
            #expect(tooSoon.deliveries.isEmpty, "not due before its back-off")
            receiver.answer(200)
            fixture.advance(6)
            let retried = try await fixture.lifecycle.round(now: fixture.now, sweeping: false)
            #expect(retried.deliveries.map(\.delivered) == [true])
            #expect(retried.deliveries.first?.deliveryId == failed.deliveries.first?.deliveryId)
            #expect(receiver.received.last?.body["type"] as? String == "connection.recovered")
            let acknowledged = receiver.acknowledged
            #expect(acknowledged.count == 2 && acknowledged.values.allSatisfy { $0 == 1 })
            #expect(receiver.received.allSatisfy { $0.signatureValid })
            let rows = try await fixture.log.database.read { db in try WebhookDelivery.list(project: "acme", limit: 10, db) }
            #expect(rows.map(\.state) == ["delivered", "delivered"] && rows.first?.attempts == 2)
        }
    }

    /// Each webhook is warned at its own lead before a credential credlog cannot renew expires,
    /// once per credential: the warning is an event in the log, and a `connection.expiring`
    /// notification to that webhook alone.
    @Test func aCredentialThatCannotRenewItselfIsWarnedAheadOncePerCredentialAndWebhook() async throws {
        let receiver = WebhookReceiver()
        try await receiver.serve { hook in
            let fixture = try await LifecycleFixture(baseURL: "http://127.0.0.1:9", timeout: .seconds(2))  // its refreshes fail either way
            let service = fixture.log.service
            let alice = fixture.context(.member("alice"))
            let soon = try await service.addWebhook(url: hook, to: "acme", warnDaysAhead: 3, context: alice)
            receiver.expectSecret(soon.secret)
            let early = try await service.addWebhook(url: hook + "?early", to: "acme", warnDaysAhead: 10, context: alice)
            func create(_ name: String, auth: AuthType, _ json: String) async throws -> String {
                var secret = Array(json.utf8)
                return try await service.createConnection(projectId: "acme", piece: auth == .apiKey ? "hubspot" : "testmail", authType: auth,
                                                          name: name, credentials: &secret, context: alice).stream.connectionId ?? ""
            }
            let inFourDays = (fixture.now + .seconds(4 * 86_400)).iso8601
            let key = try await create("HubSpot", auth: .apiKey, #"{"apiKey":"k-1","expiresAt":"\#(inFourDays)"}"#)
            _ = try await create("No expiry", auth: .apiKey, #"{"apiKey":"k-2"}"#)
            _ = try await create("Renews itself", auth: .oauth2, #"{"accessToken":"a","refreshToken":"r","expiresAt":"\#(inFourDays)"}"#)
            func warnings() async throws -> [ConnectionEvent.ExpiryWarning] {
                try await fixture.log.allEvents().compactMap { event in
                    guard event.type == ConnectionEvent.TypeName.expiryWarned,
                          case .expiryWarned(let warning) = try event.decode(as: ConnectionEvent.self) else { return nil }
                    #expect(event.actor == .system && event.stream == .connection(key))
                    return warning
                }
            }

            // Four days ahead (N+1 for the webhook warned 3 days ahead): only the one warned 10 days ahead.
            let first = try await fixture.lifecycle.round(now: fixture.now, sweeping: true)
            #expect(first.sweep?.warned == [key: [early.id]])
            #expect(try await warnings().map(\.webhookId) == [early.id])
            #expect(first.enqueued == 1 && first.deliveries.count == 1)
            let notice = try #require(receiver.received.last)
            #expect(notice.body["type"] as? String == "connection.expiring" && notice.body["expiresAt"] as? String == inFourDays)
            #expect(notice.body["status"] as? String == "active")
            let again = try await fixture.lifecycle.round(now: fixture.now, sweeping: true)
            #expect(again.sweep?.warned == [:] && again.enqueued == 0, "once per credential and webhook")

            // A day on, exactly 3 days ahead: the other webhook's lead has come; it alone is warned,
            // one notification, signed with its secret.
            fixture.advance(86_400)
            let second = try await fixture.lifecycle.round(now: fixture.now, sweeping: true)
            #expect(second.sweep?.warned == [key: [soon.id]])
            #expect(second.deliveries.map(\.delivered) == [true])
            #expect(receiver.received.last?.signatureValid == true && receiver.received.last?.body["type"] as? String == "connection.expiring")
            #expect(try await warnings().map(\.webhookId) == [early.id, soon.id])

            // A new credential is warned about again, by both; the status never changed.
            let tomorrow = (fixture.now + .seconds(86_400)).iso8601
            var fresh = Array(#"{"apiKey":"k-3","expiresAt":"\#(tomorrow)"}"#.utf8)
            _ = try await service.reconnect(key, credentials: &fresh, context: fixture.context(.member("alice")))
            let third = try await fixture.lifecycle.round(now: fixture.now, sweeping: true)
            #expect(third.sweep?.warned[key]?.sorted() == [early.id, soon.id].sorted())
            let all = try await warnings()
            #expect(all.count == 4 && all.suffix(2).allSatisfy { $0.expiresAt == tomorrow })
            #expect(Set(all.map(\.credentialFingerprint)).count == 2)
            #expect(try await service.loadConnection(key).state.connection?.status.isActive == true)

            // A rebuild of the read models sends nothing again.
            try await ProjectionRunner(database: fixture.log.database).rebuild()
            #expect(try await fixture.lifecycle.round(now: fixture.now, sweeping: false).enqueued == 0)
        }
    }

    /// `credlog serve` killed (SIGKILL) between the event and the delivery, and events appended
    /// while no server runs: after a restart each notification is delivered, once per delivery id.
    @Test func aKilledServerDeliversEveryNotificationOnceAfterRestart() async throws {
        let receiver = WebhookReceiver()
        try await receiver.serve { hook in
            let cli = try CLI()
            #expect(try cli.run(["init"]).status == 0)
            #expect(try cli.run(["project", "create", "acme", "--admin", "alice"]).status == 0)
            let added = try cli.run(["webhook", "add", "--project", "acme", "--url", hook, "--as", "alice", "--json"])
            let secret = try #require((try JSONSerialization.jsonObject(with: Data(added.stdout.utf8)) as? [String: String])?["secret"])
            receiver.expectSecret(secret)
            let id = try cli.run(["connection", "create", "--project", "acme", "--piece", "hubspot", "--auth", "api-key", "--name", "HubSpot",
                                  "--credentials-stdin", "--as", "alice"], stdin: #"{"apiKey":"k-1"}"#).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)

            receiver.answer(503)
            var server = try Self.serve(cli)
            #expect(try cli.run(["connection", "expire", id, "--reason", "key leaked", "--as", "system"]).status == 0)
            #expect(try await receiver.wait(seconds: 300) { !$0.received.isEmpty }, "the server tried to deliver")
            // Kill it once the failed attempt is recorded (the next one scheduled): between the event and its delivery.
            var recorded = false
            for _ in 0..<6000 where !recorded {
                let row = try cli.runProgram("sqlite3", [cli.databasePath, "SELECT attempts, lease_until IS NULL FROM webhook_outbox"])
                recorded = row.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1|1"
                if !recorded { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(recorded, "the failed attempt was recorded")
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
            let failedAttempt = try #require(receiver.received.first)

            // While no server runs: the connection recovers (an event no process has fed to the outbox).
            #expect(try cli.run(["connection", "reconnect", id, "--credentials-stdin", "--as", "alice"], stdin: #"{"apiKey":"k-2"}"#).status == 0)
            receiver.answer(200)
            server = try Self.serve(cli)
            #expect(try await receiver.wait(seconds: 300) { $0.acknowledged.count == 2 }, "both delivered after the restart")
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()

            // Once more, with nothing pending: nothing is sent again.
            let swept = try cli.run(["sweep", "--as", "system"])
            #expect(swept.status == 0 && swept.stdout.contains("0 notifications queued, 0 delivered"))
            let acknowledged = receiver.acknowledged
            #expect(acknowledged.count == 2 && acknowledged.values.allSatisfy { $0 == 1 })
            #expect(acknowledged[failedAttempt.deliveryId] == 1, "the failed delivery kept its id")
            #expect(receiver.received.allSatisfy { $0.signatureValid })
            #expect(Set(receiver.received.compactMap { $0.body["type"] as? String }) == ["connection.inactive", "connection.recovered"])
        }
    }

    /// Starts `credlog serve` on a free port in the CLI's directory.
    static func serve(_ cli: CLI) throws -> Process {
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = ["serve", "--port", "0", "--allow-private-destinations"]
        process.currentDirectoryURL = cli.directory
        process.environment = cli.environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }
}
