import CredlogTestSupport
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

/// An OpenTelemetry collector on loopback: keeps every OTLP/HTTP JSON export it is sent.
final class OTLPReceiver: Sendable {
    private let exports = Mutex<[String]>([])

    /// Every export body received so far.
    var received: [String] { exports.withLock { $0 } }

    /// The spans received, from every export.
    var spans: [Span] {
        received.flatMap { body -> [Span] in
            guard let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] else { return [] }
            let resources = object["resourceSpans"] as? [[String: Any]] ?? []
            let scopes = resources.flatMap { $0["scopeSpans"] as? [[String: Any]] ?? [] }
            return scopes.flatMap { $0["spans"] as? [[String: Any]] ?? [] }.map(Span.init)
        }
    }

    struct Span {
        var name: String
        var traceId: String
        var spanId: String
        var parentSpanId: String
        var attributes: [String: String]

        init(_ json: [String: Any]) {
            name = json["name"] as? String ?? ""
            traceId = json["traceId"] as? String ?? ""
            spanId = json["spanId"] as? String ?? ""
            parentSpanId = json["parentSpanId"] as? String ?? ""
            var attributes: [String: String] = [:]
            for attribute in json["attributes"] as? [[String: Any]] ?? [] {
                guard let key = attribute["key"] as? String, let value = attribute["value"] as? [String: Any] else { continue }
                attributes[key] = value.values.first.map { "\($0)" }
            }
            self.attributes = attributes
        }
    }

    /// Serves on a free loopback port while `body` runs with its base URL.
    func serve(_ body: @Sendable (_ endpoint: String) async throws -> Void) async throws {
        let router = Router()
        router.post("v1/traces") { request, _ -> Response in
            let bytes = try await request.body.collect(upTo: 16 << 20)
            self.exports.withLock { $0.append(String(buffer: bytes)) }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{}")))
        }
        // A webhook receiver too, for credlog's outbound calls.
        router.post("hook") { _, _ in Response(status: .ok) }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in try await body("http://127.0.0.1:\(client.port!)") }
    }
}

/// `credlog serve` with `OTEL_EXPORTER_OTLP_ENDPOINT` set sends its spans to the collector.
@Suite("Traces")
struct TracingCLITests {
    @Test func aReconnectIsOneTraceOfRequestCommandAndAppendSpansAndAWebhookAnOutboundSpanWithNoSecret() async throws {
        let cli = try CLI()
        #expect(try cli.run(["init"]).status == 0)
        #expect(try cli.run(["project", "create", "acme", "--admin", "alice"]).status == 0)
        let id = try createConnection(cli, as: "alice")
        let token = try cli.run(["token", "create", "--member", "alice", "--project", "acme"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let sentinel = "SENTINEL-trace-\(UUID().uuidString)"
        let receiver = OTLPReceiver()
        try await receiver.serve { endpoint in
            var cli = cli
            // A webhook on the receiver, told when the connection turns Inactive: an outbound call.
            cli.environment["CREDLOG_LOOPBACK_ONLY"] = "1"
            let hook = try cli.run(["webhook", "add", "--project", "acme", "--url", "\(endpoint)/hook", "--as", "alice"])
            #expect(hook.status == 0, "\(hook.stderr)")
            #expect(try cli.run(["connection", "expire", id, "--reason", "key revoked", "--as", "engine"]).status == 0)
            cli.environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint
            cli.environment["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/json"
            cli.environment["OTEL_EXPORTER_OTLP_COMPRESSION"] = "none"
            cli.environment["OTEL_BSP_SCHEDULE_DELAY"] = "50"
            let server = try CLIHardeningTests.serve(cli)
            defer { if server.process.isRunning { server.process.terminate() } }
            var request = URLRequest(url: URL(string: "\(server.url)/v1/connections/\(id)/reconnect")!)
            request.httpMethod = "POST"
            request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.setValue("corr-trace-4812", forHTTPHeaderField: "X-Correlation-Id")
            // The engine's own trace: credlog's spans join it.
            let callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
            request.setValue("00-\(callerTrace)-00f067aa0ba902b7-01", forHTTPHeaderField: "traceparent")
            request.httpBody = Data(#"{"credentials":{"apiKey":"\#(sentinel)"}}"#.utf8)
            request.timeoutInterval = 120
            let (_, response) = try await URLSession.shared.data(for: request)
            #expect((response as? HTTPURLResponse)?.statusCode == 200)

            // The exporter sends in batches: wait until the request's span has come.
            let route = "/v1/connections/{id}/reconnect"
            let deadline = ContinuousClock.now + .seconds(120)
            while !(receiver.spans.contains { $0.name == route } && receiver.spans.contains { $0.name == "outbound POST" }),
                  ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            server.process.terminate()
            server.process.waitUntilExit()

            let spans = receiver.spans
            let requestSpan = try #require(spans.first { $0.name == route }, "the request's span: \(spans.map(\.name))")
            let command = try #require(spans.first { $0.name == "command connection.reconnect" && $0.traceId == requestSpan.traceId },
                                       "\(spans.map { "\($0.name) \($0.traceId) \($0.spanId) <- \($0.parentSpanId)" })")
            let append = try #require(spans.first { $0.name == "append" && $0.traceId == requestSpan.traceId })
            let callerTraceBytes = stride(from: 0, to: callerTrace.count, by: 2).map { offset -> UInt8 in
                let start = callerTrace.index(callerTrace.startIndex, offsetBy: offset)
                return UInt8(callerTrace[start..<callerTrace.index(start, offsetBy: 2)], radix: 16) ?? 0
            }
            #expect(requestSpan.traceId == Data(callerTraceBytes).base64EncodedString(), "the caller's traceparent is followed")
            #expect(command.parentSpanId == requestSpan.spanId, "the command runs inside the request")
            #expect(append.parentSpanId == command.spanId, "the append inside the command")
            #expect(requestSpan.attributes["credlog.correlation_id"] == "corr-trace-4812")
            #expect(command.attributes["credlog.correlation_id"] == "corr-trace-4812")
            #expect(command.attributes["credlog.stream"] == "connection:\(id)")
            #expect(requestSpan.attributes["http.response.status_code"] == "200")
            #expect(append.attributes["credlog.append.events"] == "1")
            // The webhook's delivery: the host and the status, nothing of the path or the body.
            let outbound = try #require(spans.first { $0.name == "outbound POST" })
            #expect(outbound.attributes["server.address"] == "127.0.0.1" && outbound.attributes["http.response.status_code"] == "200")
            let everything = receiver.received.joined()
            #expect(!everything.contains("/hook"), "no outbound path in any span")
            #expect(!everything.contains(sentinel), "no credential in any span")
            #expect(!everything.contains(token), "no bearer token in any span")
        }
    }

    /// swift-otel reports the settings it read; their values (a collector's API key in
    /// `OTEL_EXPORTER_OTLP_HEADERS`) never reach credlog's log.
    @Test func theExportersSettingsAreNeverLoggedWithTheirValues() throws {
        var cli = try CLI()
        #expect(try cli.run(["init"]).status == 0)
        cli.environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:9"
        cli.environment["OTEL_EXPORTER_OTLP_PROTOCOL"] = "carrier-pigeon"
        cli.environment["OTEL_EXPORTER_OTLP_HEADERS"] = "api-key=SENTINEL-collector-key"
        let server = try CLIHardeningTests.serve(cli)
        server.process.terminate()
        server.process.waitUntilExit()
        let logged = String(decoding: FileManager.default.contents(atPath: server.stderr.path) ?? Data(), as: UTF8.self)
        #expect(logged.contains("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"), "the bad protocol is reported by name: \(logged)")
        #expect(!logged.contains("SENTINEL") && !logged.contains("carrier-pigeon"), "\(logged)")
    }
}
