import Metrics
import Synchronization

/// A database whose pool use is reported: how many of its connections run a closure now, and how
/// many callers wait for one (`credlog_db_connections_in_use` and `credlog_db_waiting`, by
/// access: read or write). Everything else is the wrapped database's.
public struct MeteredDatabase: SQLDatabase {
    public let base: any SQLDatabase
    private let reads: Gauges
    private let writes: Gauges

    public init(_ base: any SQLDatabase, factory: any MetricsFactory) {
        self.base = base.underlying
        reads = Gauges(access: "read", factory: factory)
        writes = Gauges(access: "write", factory: factory)
    }

    public var dialect: SQLDialect { base.dialect }
    public var underlying: any SQLDatabase { base }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        try await reads.measure { started in try await base.read { db in started(); return try body(db) } }
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        try await writes.measure { started in try await base.write { db in started(); return try body(db) } }
    }

    public func reclaimDeletedRows(of table: String) async throws { try await base.reclaimDeletedRows(of: table) }

    /// The two gauges of one kind of access, kept as counts so that each sample is exact.
    private final class Gauges: Sendable {
        let inUse: Gauge
        let waiting: Gauge
        let counts = Mutex((inUse: 0, waiting: 0))

        init(access: String, factory: any MetricsFactory) {
            inUse = Gauge(label: "credlog_db_connections_in_use", dimensions: [("access", access)], factory: factory)
            waiting = Gauge(label: "credlog_db_waiting", dimensions: [("access", access)], factory: factory)
        }

        /// Runs `access`, counted as waiting until it calls `started` (it holds a connection) and
        /// in use from then until it returns. A retried transaction (PostgreSQL) starts again.
        func measure<T>(_ access: (@escaping @Sendable () -> Void) async throws -> T) async throws -> T {
            let holding = Holding()
            update { $0.waiting += 1 }
            defer {
                let held = holding.held.withLock { $0 }
                update { if held { $0.inUse -= 1 } else { $0.waiting -= 1 } }
            }
            return try await access {
                let first = holding.held.withLock { held in defer { held = true }; return !held }
                if first { self.update { $0.waiting -= 1; $0.inUse += 1 } }
            }
        }

        /// Whether one access got its connection.
        private final class Holding: Sendable {
            let held = Mutex(false)
        }

        private func update(_ change: (inout (inUse: Int, waiting: Int)) -> Void) {
            let now = counts.withLock { counts in change(&counts); return counts }
            inUse.record(now.inUse)
            waiting.record(now.waiting)
        }
    }
}
