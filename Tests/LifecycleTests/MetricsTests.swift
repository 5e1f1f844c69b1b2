import CredlogDomain
import CredlogEvents
import CredlogLifecycle
import CredlogProjections
import CredlogServer
import CredlogTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// `GET /metrics`: each series the README documents, with the counts of a scripted workload,
/// and only for the holder of the scrape token.
@Suite("Metrics")
struct MetricsTests {
    static let scrapeToken = "scrape-" + String(repeating: "k7", count: 20)

    @Test func aScrapeAfterAScriptedWorkloadFindsEveryDocumentedSeriesWithItsCount() async throws {
        let provider = TestOAuthProvider()
        provider.set { $0.liveRefreshTokens = ["rt-seed"] }
        let receiver = WebhookReceiver()
        try await provider.serve { baseURL in
            try await receiver.serve { hook in
                let metrics = ServerMetrics(scrapeToken: ServerMetrics.ScrapeToken(Self.scrapeToken))
                let fixture = try await LifecycleFixture(baseURL: baseURL, metrics: metrics)
                let service = fixture.log.service
                let added = try await service.addWebhook(url: hook, to: "acme", context: fixture.context(.member("alice")))
                receiver.expectSecret(added.secret)

                // Sweep 1: one refresh succeeds; the provider refuses another connection's refresh
                // token, which expires it, and its notification is delivered.
                _ = try await fixture.oauth2Connection(expiresIn: 60)
                let refused = try await fixture.oauth2Connection(refreshToken: "rt-unknown", expiresIn: 60)
                let first = try await fixture.lifecycle.round(now: fixture.now, sweeping: true)
                #expect(first.sweep?.refreshed.count == 1 && first.sweep?.expired.keys.sorted() == [refused])
                #expect(first.deliveries.map(\.delivered) == [true])

                // Sweep 2: the provider is down (two attempts, both transient failures); the
                // receiver too, so the reconnected connection's notification fails and waits.
                provider.set { $0.mode = .failing }
                receiver.answer(503)
                _ = try await fixture.oauth2Connection(refreshToken: "rt-other", expiresIn: 60)
                let later = Timestamp(microseconds: fixture.now.microseconds + 86_400_000_000).iso8601
                var fresh = Array(#"{"accessToken":"at-new","refreshToken":"rt-new","expiresAt":"\#(later)"}"#.utf8)
                _ = try await service.reconnect(refused, credentials: &fresh, context: fixture.context(.member("alice")))
                let second = try await fixture.lifecycle.round(now: fixture.now, sweeping: true)
                #expect(second.sweep?.failing.count == 1)
                #expect(second.deliveries.map(\.delivered) == [false])

                let bob = try await fixture.token(member: "bob")
                try await fixture.server { client in
                    #expect(try await Self.get(client, "/v1/connections", token: bob).status == 200)
                    #expect(try await Self.get(client, "/v1/connections", token: bob).status == 200)
                    #expect(try await Self.get(client, "/v1/connections/\(refused)", token: bob).status == 200)
                    #expect(try await Self.get(client, "/no/such/page", token: nil).status == 404)

                    // Anonymous and wrong-token scrapes are refused, and say nothing.
                    let anonymous = try await Self.get(client, "/metrics", token: nil)
                    #expect(anonymous.status == 401 && !anonymous.text.contains("credlog_"))
                    let wrong = try await Self.get(client, "/metrics", token: Self.scrapeToken + "x")
                    #expect(wrong.status == 401 && !wrong.text.contains("credlog_"))

                    let scrape = try await Self.get(client, "/metrics", token: Self.scrapeToken)
                    #expect(scrape.status == 200)
                    let series = Scrape(scrape.text)
                    let events = Double(try await fixture.log.eventCount())

                    // Every series the README documents is there.
                    for name in try Self.documentedSeries() {
                        #expect(series.has(name), "\(name) is documented but not served")
                    }
                    // HTTP, by route template.
                    #expect(series["credlog_http_requests_total", ["route": "/v1/connections", "method": "GET", "status": "200"]] == 2)
                    #expect(series["credlog_http_requests_total", ["route": "/v1/connections/{id}", "method": "GET", "status": "200"]] == 1)
                    #expect(series["credlog_http_requests_total", ["route": "unmatched", "method": "GET", "status": "404"]] == 1)
                    #expect(series["credlog_http_requests_total", ["route": "/metrics", "method": "GET", "status": "401"]] == 2)
                    #expect(series["credlog_http_request_duration_seconds_count", ["route": "/v1/connections", "method": "GET", "status": "200"]] == 2)
                    #expect(!scrape.text.contains(refused), "no series names a connection")
                    // The log: every event was appended through the metered store.
                    #expect(series["credlog_appended_events_total"] == events)
                    #expect(series["credlog_log_head_position"] == events)
                    let commits = try #require(series["credlog_group_commits_total"])
                    #expect(commits > 0 && series["credlog_group_commit_requests_count"] == commits)
                    #expect(series["credlog_group_commit_duration_seconds_count"] == commits)
                    // Each request of a group is committed or refused (a version conflict, which
                    // the command retries); atomic appends count as requests, not group commits.
                    let committed = try #require(series["credlog_append_requests_total", ["outcome": "committed"]])
                    let refusedRequests = try #require(series["credlog_append_requests_total", ["outcome": "refused"]])
                    #expect(committed + refusedRequests >= (series["credlog_group_commit_requests_sum"] ?? .infinity))
                    for projection in BuiltInProjections.all {
                        #expect(series["credlog_projection_lag_events", ["projection": projection.name]] == 0)
                    }
                    // The lifecycle: 1 + 1 + 2 token requests; one refusal, two outages.
                    #expect(series["credlog_refresh_attempts_total", ["piece": "testmail"]] == 4)
                    #expect(series["credlog_refresh_failures_total", ["piece": "testmail", "kind": "refused"]] == 1)
                    #expect(series["credlog_refresh_failures_total", ["piece": "testmail", "kind": "transient"]] == 2)
                    #expect(series["credlog_webhook_deliveries_total", ["outcome": "delivered"]] == 1)
                    #expect(series["credlog_webhook_deliveries_total", ["outcome": "failed"]] == 1)
                    #expect(series["credlog_webhook_backlog"] == 1)
                    #expect(series["credlog_sweeper_runs_total", ["outcome": "ok"]] == 2)
                    #expect(series["credlog_sweeper_run_duration_seconds_count"] == 2)
                    // The pool is idle between requests, and the scrape read the database.
                    for access in ["read", "write"] {
                        #expect(series["credlog_db_connections_in_use", ["access": access]] == 0)
                        #expect(series["credlog_db_waiting", ["access": access]] == 0)
                    }
                    #expect(series["credlog_metrics_database_up"] == 1)
                    // Nothing secret: the scrape token, the webhook's secret, a credential.
                    for secret in [Self.scrapeToken, added.secret, "at-new", "rt-new", bob] {
                        #expect(!scrape.text.contains(secret))
                    }
                }
                #expect(!fixture.serverLog.text.contains(Self.scrapeToken))
            }
        }
    }

    @Test func withoutAScrapeTokenMetricsAreNotServedAndAShortTokenIsRefused() async throws {
        #expect(ServerMetrics.ScrapeToken("too-short") == nil)
        #expect(ServerMetrics.ScrapeToken(String(repeating: "a", count: 31)) == nil)
        #expect(ServerMetrics.ScrapeToken(String(repeating: "a", count: 31) + " ") == nil)
        #expect(ServerMetrics.ScrapeToken(String(repeating: "a", count: 16) + "\u{7}" + String(repeating: "a", count: 16)) == nil)
        #expect(ServerMetrics.ScrapeToken(String(repeating: "a", count: 4097)) == nil)
        #expect(ServerMetrics.ScrapeToken(String(repeating: "a", count: 32) + "\n") != nil)
        let fixture = try await LifecycleFixture(baseURL: "http://127.0.0.1:9")
        try await fixture.server { client in
            let anonymous = try await Self.get(client, "/metrics", token: nil)
            let withAToken = try await Self.get(client, "/metrics", token: Self.scrapeToken)
            #expect(anonymous.status == 404 && withAToken.status == 404)
        }
    }

    /// The series names in the README's metrics table (histograms are found by their `_count`).
    static func documentedSeries() throws -> [String] {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        let rows = text.split(separator: "\n").filter { $0.contains("| `credlog_") }
        let names = rows.compactMap { row -> String? in
            let cells = row.trimmingCharacters(in: .whitespaces).split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 2, let name = cells.first?.trimmingCharacters(in: CharacterSet(charactersIn: "`")) else { return nil }
            return cells[1] == "histogram" ? name + "_count" : name
        }
        #expect(names.count >= 18, "the README's table was found")
        return names
    }

    struct Answer {
        var status: Int
        var text: String
    }

    static func get(_ client: any TestClientProtocol, _ uri: String, token: String?) async throws -> Answer {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await client.execute(uri: uri, method: .get, headers: headers) {
            Answer(status: Int($0.status.code), text: String(buffer: $0.body))
        }
    }
}

/// Prometheus's text format, read into samples by name and label set.
struct Scrape {
    private var samples: [String: Double] = [:]
    private var names: Set<String> = []

    init(_ text: String) {
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            let series = line[..<space]
            let name = String(series.prefix { $0 != "{" })
            var labels: [String: String] = [:]
            if let open = series.firstIndex(of: "{"), series.hasSuffix("}") {
                let body = series[series.index(after: open)..<series.index(before: series.endIndex)]
                for pair in body.split(separator: ",") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    guard parts.count == 2 else { continue }
                    labels[String(parts[0])] = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                }
            }
            samples[Self.key(name, labels)] = value
            names.insert(name)
        }
    }

    func has(_ name: String) -> Bool { names.contains(name) }

    subscript(_ name: String, _ labels: [String: String] = [:]) -> Double? { samples[Self.key(name, labels)] }

    private static func key(_ name: String, _ labels: [String: String]) -> String {
        name + "{" + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",") + "}"
    }
}
