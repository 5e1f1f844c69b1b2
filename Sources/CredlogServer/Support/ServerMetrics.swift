import Metrics
import CredlogEvents
import CredlogLifecycle
import HTTPTypes
import Prometheus
import Synchronization

/// The server's metrics: one Prometheus registry that the log, the lifecycle and the HTTP layer
/// record into (through swift-metrics, with this registry's factory: nothing global, so each
/// server — and each test — counts its own), served at `GET /metrics` to the holder of the
/// scrape token.
public final class ServerMetrics: Sendable {
    /// The registry the series live in.
    public let registry: PrometheusCollectorRegistry
    /// The factory to give the log (``LogMetrics``), the lifecycle (``LifecycleMetrics``) and the database (``MeteredDatabase``).
    public let factory: any MetricsFactory
    /// Who may scrape: `nil` leaves `/metrics` unserved (404).
    let scrapeToken: ScrapeToken?
    private let requests = Mutex<[RequestKey: RequestSeries]>([:])

    /// - Parameter scrapeToken: the bearer token a scraper presents (`serve --metrics-token-file`);
    ///   without one, `/metrics` is not served.
    public init(scrapeToken: ScrapeToken? = nil) {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.valueHistogramBuckets[LogMetrics.batchSizeName] = LogMetrics.batchSizeBuckets
        self.registry = registry
        self.factory = factory
        self.scrapeToken = scrapeToken
    }

    /// The secret a scraper presents as `Authorization: Bearer …`, compared in constant time.
    public struct ScrapeToken: Sendable {
        let digest: [UInt8]

        /// The shortest and longest tokens accepted, in bytes.
        public static let lengths = 32...4096

        /// A token of 32 to 4,096 printable ASCII bytes (surrounding whitespace, such as a file's
        /// last newline, is dropped); `nil` otherwise.
        public init?(_ text: String) {
            let token = Array(text.trimmingCharacters(in: .whitespacesAndNewlines).utf8)
            guard Self.lengths.contains(token.count), token.allSatisfy({ (0x21...0x7e).contains($0) }) else { return nil }
            digest = Self.hash(token)
        }

        func admits(_ presented: String) -> Bool {
            let bytes = Array(presented.utf8.prefix(Self.lengths.upperBound + 1))
            return Sodium.constantTimeEqual(Self.hash(bytes), digest)
        }

        private static func hash(_ bytes: [UInt8]) -> [UInt8] { KeyedHash.digest(bytes, key: Array("credlog metrics".utf8)) }
    }

    private struct RequestKey: Hashable {
        let route: String
        let method: String
        let status: Int
    }

    private struct RequestSeries {
        let count: CoreMetrics.Counter
        let duration: CoreMetrics.Timer
    }

    /// One answered request: `route` is the router's template (`/v1/connections/{id}`), never the
    /// path itself, so the series stay bounded whatever is asked.
    func recordRequest(route: String, method: HTTPRequest.Method, status: Int, duration: Duration) {
        let key = RequestKey(route: route, method: Self.methods.contains(method) ? method.rawValue : "other", status: status)
        let series = requests.withLock { table in
            if let series = table[key] { return series }
            let labels = [("route", key.route), ("method", key.method), ("status", String(key.status))]
            let series = RequestSeries(count: CoreMetrics.Counter(label: "credlog_http_requests_total", dimensions: labels, factory: factory),
                                       duration: CoreMetrics.Timer(label: "credlog_http_request_duration_seconds", dimensions: labels, factory: factory))
            table[key] = series
            return series
        }
        series.count.increment()
        series.duration.record(duration: duration)
    }

    private static let methods: Set<HTTPRequest.Method> = [.get, .head, .post, .put, .patch, .delete, .options]

    /// Sets a gauge read at scrape time (projection lag, the log's head, the webhook backlog).
    func set(_ name: String, _ labels: [(String, String)] = [], to value: Int64) {
        registry.makeGauge(name: name, labels: labels).set(Double(value))
    }
}
