import Logging
import PostgresNIO
import ServiceLifecycle

/// How PostgreSQL tells every server of an append: ``LogStore`` ends each append transaction
/// with `NOTIFY credlog_events` (delivered on commit), and each server that waits for appends
/// listens on a connection of its own.
enum PostgresNotifications {
    /// The channel appends notify, with the new head position as payload.
    static let channel = "credlog_events"

    /// Follows `NOTIFY credlog_events` on a connection of its own and wakes this process's
    /// subscribers. When the connection is lost it wakes them too (they catch up by reading
    /// from their position), then listens again after a pause.
    struct Listener: Service {
        let database: PostgresDatabase
        let signal: AppendSignal

        func run() async {
            await PostgresNotifications.listen(database, signal: signal)
        }
    }

    private static func listen(_ database: PostgresDatabase, signal: AppendSignal) async {
        let logger = Logger(label: "credlog.postgres.listen")
        while !Task.isCancelled {
            do {
                try await database.client.withConnection { connection in
                    try await connection.listen(on: channel) { notifications in
                        signal.notify()  // listening from now: whatever came before is read by catching up
                        for try await _ in notifications { signal.notify() }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("lost the PostgreSQL notification connection; catching up and listening again")
            }
            signal.notify()
            try? await Task.sleep(for: .milliseconds(500))
        }
    }
}
