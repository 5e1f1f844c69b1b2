import CredlogEvents
import Foundation

/// The PostgreSQL server of the benchmark's PostgreSQL columns: a new database per run.
struct BenchPostgres: Sendable {
    let server: PostgresDatabase

    init(url: String) throws {
        server = try PostgresDatabase(try PostgresLocation(url: url), maximumConnections: 1)
    }

    /// A new, empty database; returns its URL (`--db`, without the password).
    func newDatabase() async throws -> String {
        try await server.createDatabase(prefix: "credlog_bench").description
    }
}
