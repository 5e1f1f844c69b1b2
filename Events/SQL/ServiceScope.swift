import ServiceLifecycle

/// Where the background work of a database runs: PostgreSQL's connection pool and its
/// notification listener are ServiceLifecycle services, started as child tasks of the innermost
/// scope and cancelled when the scope's body returns. Nothing outlives its scope, and a
/// PostgreSQL database cannot be opened outside one (``PostgresDatabase/init(_:maximumConnections:answerDeadline:logger:)``).
///
/// `credlog` runs each command in a scope (`credlog serve` included: the pool outlives the
/// server's graceful shutdown); tests run in one per test.
public final class ServiceScope: Sendable {
    @TaskLocal static var current: ServiceScope?
    private let starts: AsyncStream<any Service>.Continuation

    private init(starts: AsyncStream<any Service>.Continuation) {
        self.starts = starts
    }

    /// Starts `service` in the current scope; `false` when there is none.
    @discardableResult
    static func start(_ service: any Service) -> Bool {
        guard let scope = current else { return false }
        scope.starts.yield(service)
        return true
    }

    /// Runs `body`, and the services started inside it until it returns.
    public static func run<Result>(isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> Result)
        async throws -> Result {
        let (services, starts) = AsyncStream.makeStream(of: (any Service).self)
        return try await withThrowingTaskGroup(of: Void.self, isolation: isolation) { group in
            group.addTask {
                await withDiscardingTaskGroup { running in
                    for await service in services { running.addTask { try? await service.run() } }
                }
            }
            let result = try await $current.withValue(ServiceScope(starts: starts)) { try await body() }
            starts.finish()
            group.cancelAll()
            return result
        }
    }
}
