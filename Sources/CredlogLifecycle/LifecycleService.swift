import CredlogEvents
import Logging
import ServiceLifecycle

/// The lifecycle in the background of `credlog serve`: notifications are sent as soon as the
/// events that cause them are appended (or within a second, for other processes' appends), and
/// the sweeper runs every ``LifecycleSettings/sweepInterval``. Stops on graceful shutdown.
public struct LifecycleService: Service {
    let lifecycle: CredentialLifecycle
    let store: any EventStore
    let logger: Logger

    public init(lifecycle: CredentialLifecycle, store: any EventStore, logger: Logger) {
        self.lifecycle = lifecycle
        self.store = store
        self.logger = logger
    }

    static let minimumPause = Duration.milliseconds(250)

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var nextSweep = ContinuousClock.now
            while !Task.isCancelled {
                let mark = store.appendMark()
                let sweeping = ContinuousClock.now >= nextSweep
                if sweeping { nextSweep = .now + lifecycle.settings.sweepInterval }
                do {
                    let round = try await lifecycle.round(now: .now(), sweeping: sweeping)
                    log(round)
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("credential lifecycle round failed: \(type(of: error))")
                }
                // At most four rounds a second, however busy the log: appends keep their write lock.
                try? await Task.sleep(for: Self.minimumPause)
                await store.waitForAppends(since: mark, timeout: .seconds(1))
            }
        }
    }

    private func log(_ round: CredentialLifecycle.Round) {
        if let sweep = round.sweep {
            for id in sweep.refreshed { logger.info("refreshed the token of \(id)") }
            for (id, reason) in sweep.expired { logger.notice("expired \(id): \(reason)") }
            for (id, error) in sweep.failing { logger.warning("refresh of \(id) failing: \(error)") }
            for (id, error) in sweep.errors { logger.error("sweep of \(id) failed: \(error)") }
            for (id, why) in sweep.unrenewable { logger.debug("cannot refresh \(id): \(why)") }
        }
        for attempt in round.deliveries {
            if attempt.delivered {
                logger.info("webhook delivery \(attempt.deliveryId) delivered")
            } else {
                logger.warning("webhook delivery \(attempt.deliveryId) failed: \(attempt.error ?? "")")
            }
        }
    }
}
