import CredlogEvents
import Foundation

/// The PostgreSQL server of the benchmark's PostgreSQL columns: a new database per run.
struct BenchPostgres: Sendable {
    let server: PostgresDatabase
    let location: PostgresLocation

    init(url: String) throws {
        location = try PostgresLocation(url: url)
        server = PostgresDatabase(location, maximumConnections: 1)
    }

    /// A new, empty database; returns its URL (`--db`).
    func newDatabase() async throws -> String {
        let name = "credlog_bench_" + Sodium.randomBytes(6).hex
        try await server.executeWithoutTransaction(sql: "CREATE DATABASE \(name)")
        let target = location.database(name)
        return "postgres://\(target.username)@\(target.host):\(target.port)/\(name)?sslmode=\(target.sslMode.rawValue)"
    }
}
