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
            requests in flight. In the background it sweeps (refreshes OAuth2 tokens ahead of expiry,             expires lapsed credentials) and sends webhook notifications.
            """)
    @Option(help: "The address to listen on.") var host = "127.0.0.1"
    @Option(help: "The port (0 picks a free one).") var port = 8080
    @Option(help: "The URL people reach this server at (default http://HOST:PORT); OAuth2 providers redirect to its /v1/oauth2/callback.")
    var publicUrl: String?
    @Option(help: "How often to sweep: refresh tokens ahead of expiry, expire lapsed credentials.") var sweepInterval = TimeSpan(seconds: 60)
    @Option(help: "How long a provider may fail refreshes before the connection is expired.") var refreshGrace = TimeSpan(seconds: 3_600)
    @OptionGroup var options: GlobalOptions

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port is 0 to 65535") }
        if let publicUrl {
            guard let url = URLComponents(string: publicUrl), ["http", "https"].contains(url.scheme), url.host?.isEmpty == false else {
                throw ValidationError("--public-url is an http(s) URL, such as https://credlog.example.com")
            }
        }
        guard sweepInterval.microseconds >= 1_000_000 else { throw ValidationError("--sweep-interval is 1s or more") }
    }

    func run() async throws {
        try await reportingErrors {
            let workspace = try await Workspace.open(options)
            var logger = Logger(label: "credlog")
            logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
            var settings = LifecycleSettings()
            settings.sweepInterval = sweepInterval.duration
            settings.gracePeriod = refreshGrace.duration
            let callback = CallbackURL(ServerEnvironment.callbackURL(publicURL: publicUrl ?? "http://\(host):\(port)"))
            let environment = ServerEnvironment(
                database: workspace.database, store: workspace.store, service: workspace.service,
                lifecycle: workspace.lifecycle(settings, callbackURL: callback))
            let app = try await CredlogServer.application(environment, host: host, port: port, logger: logger) { port in
                if publicUrl == nil { callback.set(ServerEnvironment.callbackURL(publicURL: "http://\(host):\(port)")) }
                Output.line("credlog serving http://\(host):\(port)/connections (API: http://\(host):\(port)/v1, /openapi.json)")
            }
            try await app.runService()
        }
    }
}
