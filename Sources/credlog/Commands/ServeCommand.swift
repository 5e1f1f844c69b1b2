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

            Every option may also be set in the environment (CREDLOG_PORT=9090 for --port, \
            CREDLOG_DB for --db) or in a JSON file given with --config ({"port": 9090, "db": "…"}): \
            a flag wins over the environment, which wins over the file. `credlog config check` \
            shows what each setting resolves to and where it comes from.
            """)
    @Option(help: ArgumentHelp("A JSON file of settings, keyed by the options' names (\"port\", \"session-idle-timeout\").", valueName: "file"))
    var config: String?
    @OptionGroup var flags: ServeFlags
    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let resolution = try await ServeSettings.load(config: config, flags: flags, options: options)
        guard resolution.problems.isEmpty else { throw CLIError.usage(resolution.problems.joined(separator: "; ")) }
        let settings = resolution.settings
        var options = options
        options.databasePath = settings.database
        options.keyFilePath = settings.keyFile
        let metrics = ServerMetrics(scrapeToken: try settings.metricsTokenFile.map(Self.scrapeToken(file:)))  // checked by resolve
        let workspace = try await Workspace.open(
            options, http: OutboundHTTP(destinations: .fromEnvironment(allowingPrivate: settings.allowPrivateDestinations)),
            metrics: metrics.factory)
        let logger = settings.logFormat.logger(
            "credlog", level: ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info)
        var lifecycle = LifecycleSettings()
        lifecycle.sweepInterval = settings.sweepInterval.duration
        lifecycle.gracePeriod = settings.refreshGrace.duration
        lifecycle.recheckEvery = settings.recheckEvery?.duration
        let (host, port) = (settings.host, settings.port)
        let publicURL = settings.publicURL ?? "http://\(host):\(port)"
        let callback = CallbackURL(ServerEnvironment.callbackURL(publicURL: publicURL))
        var environment = ServerEnvironment(
            database: workspace.database, store: workspace.store, lifecycle: workspace.lifecycle(lifecycle, callbackURL: callback),
            publicURL: publicURL,
            sessionPolicy: SessionPolicy(idleTimeout: settings.sessionIdleTimeout.duration, lifetime: settings.sessionLifetime.duration),
            limiter: RefusalLimiter(requests: .init(limit: settings.refusedRequestsPerMinute, window: .seconds(60))), metrics: metrics)
        environment.maxProjectionLag = Int64(settings.maxProjectionLag)
        var limits = ServerLimits()
        limits.maxConnections = settings.maxConnections
        limits.idleTimeout = settings.idleTimeout.duration
        limits.bodyTimeout = settings.bodyTimeout.duration
        let traces = try TraceExport.start(environment: options.environment, logger: logger)
        let app = try await CredlogServer.application(environment, host: host, port: port, logger: logger, limits: limits,
                                                      services: traces.map { [$0] } ?? []) { port in
            if settings.publicURL == nil { callback.set(ServerEnvironment.callbackURL(publicURL: "http://\(host):\(port)")) }
            Output.line("credlog serving http://\(host):\(port)/connections (API: http://\(host):\(port)/v1, /openapi.json)")
        }
        try await app.runService()
    }

    /// The scrape token in `file`: read at most 4 KiB and one newline, never echoed.
    static func scrapeToken(file: String) throws -> ServerMetrics.ScrapeToken {
        guard let handle = FileHandle(forReadingAtPath: file) else { throw CLIError.usage("metrics-token-file: cannot read \(file)") }
        defer { try? handle.close() }
        let bytes = (try? handle.read(upToCount: ServerMetrics.ScrapeToken.lengths.upperBound + 2)) ?? Data()
        guard let token = String(data: bytes ?? Data(), encoding: .utf8).flatMap(ServerMetrics.ScrapeToken.init) else {
            throw CLIError.usage("metrics-token-file: the token is 32 to 4096 printable ASCII characters (such as `openssl rand -hex 32`)")
        }
        return token
    }
}
