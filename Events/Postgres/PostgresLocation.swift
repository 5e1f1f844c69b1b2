import Foundation
import NIOSSL
import PostgresNIO

/// Where a PostgreSQL database is, from a `postgres://user:password@host:port/dbname?sslmode=…`
/// URL (the password may instead come from `$PGPASSWORD`).
///
/// `sslmode` follows libpq: `disable`, `prefer` (the default: TLS when the server offers it),
/// `require` (TLS, the certificate not checked) or `verify-full` (TLS, certificate and host checked).
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var sslMode: SSLMode

    public enum SSLMode: String, Sendable, CaseIterable {
        case disable, prefer, require
        case verifyFull = "verify-full"
    }

    /// Whether `text` names a PostgreSQL database rather than a SQLite file.
    public static func isPostgresURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    public init(url text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard Self.isPostgresURL(text), let components = URLComponents(string: text), let host = components.host, !host.isEmpty
        else { throw StoreError.badLocation("not a PostgreSQL URL (postgres://user@host:port/dbname)") }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty else { throw StoreError.badLocation("the PostgreSQL URL names no database (…/dbname)") }
        guard let username = components.user, !username.isEmpty else {
            throw StoreError.badLocation("the PostgreSQL URL names no user (postgres://user@host/dbname)")
        }
        let mode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        guard let sslMode = SSLMode(rawValue: mode) else {
            throw StoreError.badLocation("sslmode must be one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.host = host
        port = components.port ?? 5432
        self.username = username
        password = components.password ?? environment["PGPASSWORD"]
        self.database = database
        self.sslMode = sslMode
    }

    /// The URL without its password: safe to print.
    public var description: String {
        "postgres://\(username)@\(host):\(port)/\(database)" + (sslMode == .prefer ? "" : "?sslmode=\(sslMode.rawValue)")
    }

    /// The same server, another database (the tests' throwaway databases, `migrate`'s checks).
    public func database(_ name: String) -> PostgresLocation {
        var copy = self
        copy.database = name
        return copy
    }

    var clientTLS: PostgresClient.Configuration.TLS {
        var tls = TLSConfiguration.makeClientConfiguration()
        switch sslMode {
        case .disable: return .disable
        case .prefer:
            tls.certificateVerification = .none
            return .prefer(tls)
        case .require:
            tls.certificateVerification = .none
            return .require(tls)
        case .verifyFull:
            return .require(tls)
        }
    }
}
