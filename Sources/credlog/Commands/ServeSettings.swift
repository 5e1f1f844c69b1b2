import ArgumentParser
import CredlogEvents
import CredlogProjections
import CredlogServer
import Foundation

/// The flags of `credlog serve`. Each may also be set in the environment (`CREDLOG_PORT` for
/// `--port`) or in the `--config` file (`"port": 8080`); a flag wins over the environment, which
/// wins over the file (``ServeSettings/resolve(_:sources:)``).
struct ServeFlags: ParsableArguments {
    @Option(help: "The address to listen on (default 127.0.0.1).") var host: String?
    @Option(help: "The port, 0 picking a free one (default 8080).") var port: Int?
    @Option(help: "The URL people reach this server at (default http://HOST:PORT); OAuth2 providers redirect to its /v1/oauth2/callback.")
    var publicUrl: String?
    @Option(help: "How often to sweep: refresh tokens ahead of expiry, expire lapsed credentials (default 1m).") var sweepInterval: TimeSpan?
    @Option(help: "How long a provider may fail refreshes before the connection is expired (default 1h).") var refreshGrace: TimeSpan?
    @Option(help: "Recheck connections of catalogued pieces with a validation request this often, such as 24h (off by default).")
    var recheckEvery: TimeSpan?
    @Option(help: "Connections open at once; more wait until one closes (default \(ServerLimits().maxConnections)).") var maxConnections: Int?
    @Option(help: "A connection with no complete request part for this long is closed: idle keep-alive, dripped headers (default 15s).")
    var idleTimeout: TimeSpan?
    @Option(help: "A request's body must arrive within this of its head (default 30s).") var bodyTimeout: TimeSpan?
    @Option(help: "Refused requests (403, 404) a token may have in a minute before it is answered 429 (default 60).")
    var refusedRequestsPerMinute: Int?
    @Option(help: "How the log is written to standard error: text (one line per entry) or json (one object per line, for log shippers).")
    var logFormat: LogFormat?
    @Option(help: "A page session unused this long ends, signed out (default 30m).") var sessionIdleTimeout: TimeSpan?
    @Option(help: "A page session ends this long after sign-in, however busy (default 8h).") var sessionLifetime: TimeSpan?
    @Option(help: "The most events a projection may trail the log's head by and /health/ready still answer 200 (default 10000).")
    var maxProjectionLag: Int?
    @Option(help: ArgumentHelp("Serve Prometheus metrics at /metrics to whoever presents the token in this file (Authorization: Bearer; 32 to 4096 printable bytes). Without it, /metrics is not served.", valueName: "file"))
    var metricsTokenFile: String?
    @Flag(help: "Let validation, token and webhook requests go to loopback and private addresses (local development).")
    var allowPrivateDestinations = false
}

/// What `credlog serve` runs with, each setting resolved from its flag, the environment, the
/// settings file or its default, and checked.
struct ServeSettings {
    var database: String
    var keyFile: String?
    var host: String
    var port: Int
    var publicURL: String?
    var sweepInterval: TimeSpan
    var refreshGrace: TimeSpan
    var recheckEvery: TimeSpan?
    var maxConnections: Int
    var idleTimeout: TimeSpan
    var bodyTimeout: TimeSpan
    var refusedRequestsPerMinute: Int
    var logFormat: LogFormat
    var sessionIdleTimeout: TimeSpan
    var sessionLifetime: TimeSpan
    var maxProjectionLag: Int
    var metricsTokenFile: String?
    var allowPrivateDestinations: Bool

    /// Every key a settings file may hold.
    static let keys: Set<String> = [
        "db", "key-file", "host", "port", "public-url", "sweep-interval", "refresh-grace", "recheck-every", "max-connections",
        "idle-timeout", "body-timeout", "refused-requests-per-minute", "log-format", "session-idle-timeout", "session-lifetime",
        "max-projection-lag", "metrics-token-file", "allow-private-destinations",
    ]

    /// What `serve` and `config check` resolve: the settings, each shown with its source, and the
    /// problems found.
    struct Resolution {
        var settings: ServeSettings
        var shown: [(key: String, value: String, source: SettingSource)]
        var problems: [String]
    }

    /// Reads the environment and the `config` file, then resolves `flags` over them.
    static func load(config: String?, flags: ServeFlags, options: GlobalOptions) async throws -> Resolution {
        resolve(flags, options: options, sources: try await SettingSources.open(file: config, environment: options.environment))
    }

    /// The settings and where each came from, or the problems found: values that do not parse
    /// or are out of range, and keys of the file credlog does not know.
    static func resolve(_ flags: ServeFlags, options: GlobalOptions, sources: SettingSources) -> Resolution {
        var resolver = SettingsResolver(sources)
        let settings = ServeSettings(
            // `--db` and `--key-file` are every command's; their environment variables were CREDLOG_DB and CREDLOG_KEY_FILE already.
            database: resolver.value(options.databasePath, "db", default: "./credlog.sqlite", shown: Self.redacted),
            keyFile: resolver.optional(options.keyFilePath, "key-file"),
            host: resolver.value(flags.host, "host", default: "127.0.0.1"),
            port: resolver.value(flags.port, "port", default: 8080),
            publicURL: resolver.optional(flags.publicUrl, "public-url"),
            sweepInterval: resolver.value(flags.sweepInterval, "sweep-interval", default: TimeSpan(seconds: 60)),
            refreshGrace: resolver.value(flags.refreshGrace, "refresh-grace", default: TimeSpan(seconds: 3_600)),
            recheckEvery: resolver.optional(flags.recheckEvery, "recheck-every"),
            maxConnections: resolver.value(flags.maxConnections, "max-connections", default: ServerLimits().maxConnections),
            idleTimeout: resolver.value(flags.idleTimeout, "idle-timeout", default: TimeSpan(seconds: 15)),
            bodyTimeout: resolver.value(flags.bodyTimeout, "body-timeout", default: TimeSpan(seconds: 30)),
            refusedRequestsPerMinute: resolver.value(flags.refusedRequestsPerMinute, "refused-requests-per-minute", default: 60),
            logFormat: resolver.value(flags.logFormat, "log-format", default: LogFormat.text, shown: { $0.rawValue }),
            sessionIdleTimeout: resolver.value(flags.sessionIdleTimeout, "session-idle-timeout", default: TimeSpan(seconds: 30 * 60)),
            sessionLifetime: resolver.value(flags.sessionLifetime, "session-lifetime", default: TimeSpan(seconds: 8 * 3_600)),
            maxProjectionLag: resolver.value(flags.maxProjectionLag, "max-projection-lag", default: 10_000),
            metricsTokenFile: resolver.optional(flags.metricsTokenFile, "metrics-token-file"),
            allowPrivateDestinations: resolver.flag(flags.allowPrivateDestinations, "allow-private-destinations"))
        for key in sources.fileKeys where !keys.contains(key) {
            resolver.problem("\(key) in the settings file is not a setting of credlog serve")
        }
        settings.check(&resolver)
        return Resolution(settings: settings, shown: resolver.settings, problems: resolver.problems)
    }

    /// The ranges each value must be in.
    private func check(_ resolver: inout SettingsResolver) {
        if !(0...65535).contains(port) { resolver.problem("port is 0 to 65535") }
        if let publicURL {
            guard let url = URLComponents(string: publicURL), ["http", "https"].contains(url.scheme), url.host?.isEmpty == false else {
                resolver.problem("public-url is an http(s) URL, such as https://credlog.example.com")
                return
            }
        }
        if sweepInterval.microseconds < 1_000_000 { resolver.problem("sweep-interval is 1s or more") }
        if let recheckEvery, recheckEvery.microseconds < 3_600_000_000 { resolver.problem("recheck-every is 1h or more") }
        if !(1...1_000_000).contains(maxConnections) { resolver.problem("max-connections is 1 to 1000000") }
        if !(1...1_000_000).contains(refusedRequestsPerMinute) { resolver.problem("refused-requests-per-minute is 1 to 1000000") }
        for (name, span) in [("idle-timeout", idleTimeout), ("body-timeout", bodyTimeout)]
        where !(1_000_000...86_400_000_000).contains(span.microseconds) {
            resolver.problem("\(name) is 1s to 24h")
        }
        if !(0...1_000_000_000).contains(maxProjectionLag) { resolver.problem("max-projection-lag is 0 to 1000000000") }
        if !(60_000_000...86_400_000_000).contains(sessionIdleTimeout.microseconds) { resolver.problem("session-idle-timeout is 1m to 24h") }
        if !(sessionIdleTimeout.microseconds...(30 * 86_400_000_000)).contains(sessionLifetime.microseconds) {
            resolver.problem("session-lifetime is session-idle-timeout to 30d")
        }
        if let metricsTokenFile {
            do {
                _ = try ServeCommand.scrapeToken(file: metricsTokenFile)
            } catch CLIError.usage(let message) {
                resolver.problem(message)
            } catch {
                resolver.problem("metrics-token-file: cannot read \(metricsTokenFile)")
            }
        }
    }

    /// A database URL without its password.
    private static func redacted(_ database: String) -> String {
        (try? StoreLocation(database, environment: [:]).description) ?? "(not a database location)"
    }
}
