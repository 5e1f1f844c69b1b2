import ArgumentParser
import CredlogLifecycle
import CredlogProjections
import CredlogServer
import Foundation
import Hummingbird
import Logging

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the HTTP API and the Connections page on this database.",
        discussion: """
            The API is under /v1 (bearer tokens from `credlog token create`), its OpenAPI document at \
            /openapi.json, the Connections page at /connections. SIGINT or SIGTERM stops it after the \
            requests in flight. In the background it sweeps (refreshes OAuth2 tokens ahead of expiry, \
            expires lapsed credentials) and sends webhook notifications.
            """)
    @Option(help: "The address to listen on.") var host = "127.0.0.1"
    @Option(help: "The port (0 picks a free one).") var port = 8080
    @Option(help: "The URL people reach this server at (default http://HOST:PORT); OAuth2 providers redirect to its /v1/oauth2/callback.")
    var publicUrl: String?
    @Option(help: "How often to sweep: refresh tokens ahead of expiry, expire lapsed credentials.") var sweepInterval = TimeSpan(seconds: 60)
    @Option(help: "How long a provider may fail refreshes before the connection is expired.") var refreshGrace = TimeSpan(seconds: 3_600)
    @Option(help: "Recheck connections of catalogued pieces with a validation request this often, such as 24h (off by default).")
    var recheckEvery: TimeSpan?
    @Option(help: "Connections open at once; more wait until one closes.") var maxConnections = ServerLimits().maxConnections
    @Option(help: "A connection with no complete request part for this long is closed (idle keep-alive, dripped headers).")
    var idleTimeout = TimeSpan(seconds: 15)
    @Option(help: "A request's body must arrive within this of its head.") var bodyTimeout = TimeSpan(seconds: 30)
    @Option(help: "Refused requests (403, 404) a token may have in a minute before it is answered 429.")
    var refusedRequestsPerMinute = 60
    @Option(help: "How the log is written to standard error: text (one line per entry) or json (one object per line, for log shippers).")
    var logFormat: LogFormat = .text
    @Option(help: "A page session unused this long ends (signed out).") var sessionIdleTimeout = TimeSpan(seconds: 30 * 60)
    @Option(help: "A page session ends this long after sign-in, however busy.") var sessionLifetime = TimeSpan(seconds: 8 * 3600)
    @Option(help: "The most events a projection may trail the log's head by and /health/ready still answer 200.")
    var maxProjectionLag = 10_000
    @Option(help: ArgumentHelp("Serve Prometheus metrics at /metrics to whoever presents the token in this file (Authorization: Bearer; 32 to 4096 printable bytes). Without it, /metrics is not served.", valueName: "file"))
    var metricsTokenFile: String?
    @Flag(help: "Let validation, token and webhook requests go to loopback and private addresses (local development; also CREDLOG_ALLOW_PRIVATE_DESTINATIONS=1).")
    var allowPrivateDestinations = false
    @OptionGroup var options: GlobalOptions

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port is 0 to 65535") }
        if let publicUrl {
            guard let url = URLComponents(string: publicUrl), ["http", "https"].contains(url.scheme), url.host?.isEmpty == false else {
                throw ValidationError("--public-url is an http(s) URL, such as https://credlog.example.com")
            }
        }
        guard sweepInterval.microseconds >= 1_000_000 else { throw ValidationError("--sweep-interval is 1s or more") }
        try RecheckOption.validate(recheckEvery)
        guard (1...1_000_000).contains(maxConnections) else { throw ValidationError("--max-connections is 1 to 1000000") }
        guard (1...1_000_000).contains(refusedRequestsPerMinute) else {
            throw ValidationError("--refused-requests-per-minute is 1 to 1000000")
        }
        for (name, span) in [("--idle-timeout", idleTimeout), ("--body-timeout", bodyTimeout)]
        where !(1_000_000...86_400_000_000).contains(span.microseconds) {
            throw ValidationError("\(name) is 1s to 24h")
        }
        guard (0...1_000_000_000).contains(maxProjectionLag) else { throw ValidationError("--max-projection-lag is 0 to 1000000000") }
        guard (60_000_000...86_400_000_000).contains(sessionIdleTimeout.microseconds) else { throw ValidationError("--session-idle-timeout is 1m to 24h") }
        guard (sessionIdleTimeout.microseconds...(30 * 86_400_000_000)).contains(sessionLifetime.microseconds) else {
            throw ValidationError("--session-lifetime is --session-idle-timeout to 30d")
        }
    }

    func run() async throws {
        let metrics = ServerMetrics(scrapeToken: try metricsTokenFile.map(Self.scrapeToken(file:)))
        let workspace = try await Workspace.open(
            options, http: OutboundHTTP(destinations: .fromEnvironment(allowingPrivate: allowPrivateDestinations)),
            metrics: metrics.factory)
        let logger = logFormat.logger("credlog", level: ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info)
        var settings = LifecycleSettings()
        settings.sweepInterval = sweepInterval.duration
        settings.gracePeriod = refreshGrace.duration
        settings.recheckEvery = recheckEvery?.duration
        let callback = CallbackURL(ServerEnvironment.callbackURL(publicURL: publicUrl ?? "http://\(host):\(port)"))
        var environment = ServerEnvironment(
            database: workspace.database, store: workspace.store, lifecycle: workspace.lifecycle(settings, callbackURL: callback), publicURL: publicUrl ?? "http://\(host):\(port)",
            sessionPolicy: SessionPolicy(idleTimeout: sessionIdleTimeout.duration, lifetime: sessionLifetime.duration),
            limiter: RefusalLimiter(requests: .init(limit: refusedRequestsPerMinute, window: .seconds(60))), metrics: metrics)
        environment.maxProjectionLag = Int64(maxProjectionLag)
        var limits = ServerLimits()
        limits.maxConnections = maxConnections
        limits.idleTimeout = idleTimeout.duration
        limits.bodyTimeout = bodyTimeout.duration
        let app = try await CredlogServer.application(environment, host: host, port: port, logger: logger, limits: limits) { port in
            if publicUrl == nil { callback.set(ServerEnvironment.callbackURL(publicURL: "http://\(host):\(port)")) }
            Output.line("credlog serving http://\(host):\(port)/connections (API: http://\(host):\(port)/v1, /openapi.json)")
        }
        try await app.runService()
    }

    /// The scrape token in `file`: read at most 4 KiB and one newline, never echoed.
    static func scrapeToken(file: String) throws -> ServerMetrics.ScrapeToken {
        guard let handle = FileHandle(forReadingAtPath: file) else { throw CLIError.usage("--metrics-token-file: cannot read \(file)") }
        defer { try? handle.close() }
        let bytes = (try? handle.read(upToCount: ServerMetrics.ScrapeToken.lengths.upperBound + 2)) ?? Data()
        guard let token = String(data: bytes ?? Data(), encoding: .utf8).flatMap(ServerMetrics.ScrapeToken.init) else {
            throw CLIError.usage("--metrics-token-file: the token is 32 to 4096 printable ASCII characters (such as `openssl rand -hex 32`)")
        }
        return token
    }
}
