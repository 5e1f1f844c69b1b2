import Logging
import OTel
import ServiceLifecycle

/// Traces for an OpenTelemetry collector: off unless `OTEL_EXPORTER_OTLP_ENDPOINT` (or
/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set. Then swift-otel's OTLP/HTTP exporter sends the
/// spans of `serve` — one per request, command, append and outbound call — in batches; the other
/// `OTEL_*` variables (protocol, headers, sampler, batch delay, service name) apply as the
/// OpenTelemetry specification says. Metrics and logs stay credlog's own (`/metrics`, stderr).
enum TraceExport {
    /// Bootstraps the process's tracer and returns the service that exports its spans (to run
    /// beside the server and flush at shutdown), or nil when no endpoint is set.
    static func start(environment: [String: String], logger: Logger) throws -> (any Service)? {
        let endpoints = ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]
        guard endpoints.contains(where: { environment[$0]?.isEmpty == false }) else { return nil }
        var configuration = OTel.Configuration.default
        configuration.serviceName = "credlog"
        configuration.metrics.enabled = false
        configuration.logs.enabled = false
        configuration.traces.otlpExporter.protocol = .httpProtobuf
        // Its reports name each variable it read with the value: credlog keeps the names only.
        var diagnostics = Logger(label: logger.label) { _ in ValuesRedacted(base: logger.handler) }
        diagnostics.logLevel = .warning
        configuration.diagnosticLogger = .custom(diagnostics)
        configuration.diagnosticLogLevel = .warning
        do {
            return try OTel.bootstrap(configuration: configuration, environment: environment)
        } catch {
            // Not the error's text: OTEL_EXPORTER_OTLP_HEADERS may hold the collector's API key.
            throw CLIError.usage("the OpenTelemetry settings (OTEL_EXPORTER_OTLP_*) are not valid; see the README's \"Traces\"")
        }
    }
}

/// A log handler that replaces the value of every metadata key ending in `value`
/// (`environment_value`, `new_value`), whether set on the logger or given with an entry.
struct ValuesRedacted: LogHandler {
    var base: any LogHandler

    var logLevel: Logger.Level {
        get { base.logLevel }
        set { base.logLevel = newValue }
    }

    var metadata: Logger.Metadata {
        get { base.metadata }
        set { base.metadata = Self.redacted(newValue) }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { base[metadataKey: key] }
        set { base[metadataKey: key] = newValue.map { key.hasSuffix("value") ? "(redacted)" : $0 } }
    }

    func log(event: LogEvent) {
        var event = event
        event.metadata = event.metadata.map(Self.redacted)
        base.log(event: event)
    }

    private static func redacted(_ metadata: Logger.Metadata) -> Logger.Metadata {
        metadata.reduce(into: [:]) { kept, entry in kept[entry.key] = entry.key.hasSuffix("value") ? "(redacted)" : entry.value }
    }
}
