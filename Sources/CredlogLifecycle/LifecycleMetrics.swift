import Metrics
import Synchronization

/// What the credential lifecycle reports through swift-metrics: refreshes asked of providers by
/// piece, webhook deliveries, sweeper runs. Names are Prometheus's, listed in the README's "Metrics".
public final class LifecycleMetrics: Sendable {
    private let factory: any MetricsFactory
    private let perPiece = Mutex<[String: PieceCounters]>([:])
    let delivered: Counter
    let deliveryFailures: Counter
    let sweeps: Counter
    let failedSweeps: Counter
    let sweepDuration: Timer

    /// The most pieces counted apart; refreshes of any further piece count under `other`, so that
    /// the series stay bounded whatever projects register.
    static let maxPieces = 200

    public init(factory: any MetricsFactory) {
        self.factory = factory
        delivered = Counter(label: "credlog_webhook_deliveries_total", dimensions: [("outcome", "delivered")], factory: factory)
        deliveryFailures = Counter(label: "credlog_webhook_deliveries_total", dimensions: [("outcome", "failed")], factory: factory)
        sweeps = Counter(label: "credlog_sweeper_runs_total", dimensions: [("outcome", "ok")], factory: factory)
        failedSweeps = Counter(label: "credlog_sweeper_runs_total", dimensions: [("outcome", "failed")], factory: factory)
        sweepDuration = Timer(label: "credlog_sweeper_run_duration_seconds", factory: factory)
    }

    /// Keeps nothing.
    public static let none = LifecycleMetrics(factory: NOOPMetricsHandler.instance)

    /// A token request to a provider on behalf of a connection of `piece`.
    func refreshAttempted(piece: String) { counters(piece).attempts.increment() }

    /// Its failure: `refused` when the provider refused the refresh token (the connection expires),
    /// `transient` for an outage (network, 5xx: retried, then within the grace period).
    func refreshFailed(piece: String, refused: Bool) {
        let counters = counters(piece)
        (refused ? counters.refused : counters.transient).increment()
    }

    func delivery(succeeded: Bool) { (succeeded ? delivered : deliveryFailures).increment() }

    func sweep(failed: Bool, took duration: Duration) {
        (failed ? failedSweeps : sweeps).increment()
        sweepDuration.record(duration: duration)
    }

    private struct PieceCounters: Sendable {
        let attempts: Counter
        let transient: Counter
        let refused: Counter
    }

    private func counters(_ piece: String) -> PieceCounters {
        perPiece.withLock { table in
            let label = table[piece] != nil || table.count < Self.maxPieces ? piece : "other"
            if let counters = table[label] { return counters }
            let counters = PieceCounters(
                attempts: Counter(label: "credlog_refresh_attempts_total", dimensions: [("piece", label)], factory: factory),
                transient: Counter(label: "credlog_refresh_failures_total", dimensions: [("piece", label), ("kind", "transient")], factory: factory),
                refused: Counter(label: "credlog_refresh_failures_total", dimensions: [("piece", label), ("kind", "refused")], factory: factory))
            table[label] = counters
            return counters
        }
    }
}
