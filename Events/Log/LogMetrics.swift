import Metrics

/// What the log's appends report, through swift-metrics to whatever backend `factory` is
/// (`credlog serve` gives Prometheus's; otherwise nothing is kept). Names are Prometheus's,
/// listed in the README's "Metrics".
public struct LogMetrics: Sendable {
    /// Group commits (write transactions of ``LogStore/append(_:)``; an atomic append is not one).
    let commits: Counter
    /// Append requests committed; requests refused inside a group (a version conflict) count in `refused`.
    let requests: Counter
    let refused: Counter
    /// Events written (replays of an idempotency key write none).
    let events: Counter
    /// Requests per group commit.
    let batchSize: Recorder
    /// One group's write transaction: waiting for the write lock, the inserts, the commit and its sync.
    let commitDuration: Timer

    /// The buckets of the batch-size histogram: 1 to the group's cap (1,024), in powers of two.
    public static let batchSizeBuckets: [Double] = (0...10).map { Double(1 << $0) }
    public static let batchSizeName = "credlog_group_commit_requests"

    public init(factory: any MetricsFactory) {
        commits = Counter(label: "credlog_group_commits_total", factory: factory)
        requests = Counter(label: "credlog_append_requests_total", dimensions: [("outcome", "committed")], factory: factory)
        refused = Counter(label: "credlog_append_requests_total", dimensions: [("outcome", "refused")], factory: factory)
        events = Counter(label: "credlog_appended_events_total", factory: factory)
        batchSize = Recorder(label: Self.batchSizeName, factory: factory)
        commitDuration = Timer(label: "credlog_group_commit_duration_seconds", factory: factory)
    }

    /// Keeps nothing.
    public static let none = LogMetrics(factory: NOOPMetricsHandler.instance)

    /// Records the requests of one atomic append (its own transaction, outside the group commit).
    func recordAtomicAppend(_ results: [AppendResult]) {
        requests.increment(by: results.count)
        events.increment(by: results.filter { !$0.isReplay }.reduce(0) { $0 + ($1.positions?.count ?? 0) })
    }

    /// Records one group commit of `requests`, its results and how long its transaction took.
    func recordCommit(requests count: Int, results: [Result<AppendResult, any Error>], duration: Duration) {
        commits.increment()
        batchSize.record(count)
        commitDuration.record(duration: duration)
        var committed = 0, written = 0
        for result in results {
            guard let result = try? result.get() else { continue }
            committed += 1
            if !result.isReplay { written += result.positions?.count ?? 0 }
        }
        requests.increment(by: committed)
        refused.increment(by: results.count - committed)
        events.increment(by: written)
    }
}
