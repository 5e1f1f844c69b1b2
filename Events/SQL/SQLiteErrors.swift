import GRDB

/// SQLite's failures as ``StoreError/database(sqlState:message:)``, with the SQLSTATE PostgreSQL
/// gives the same condition, so that callers (the CLI's exit codes, the API's statuses) handle
/// both backends alike: a full disk is `53100`, an I/O error `58030`, a busy database `55P03`.
/// SQLite's message names the condition or a constraint, never a value.
enum SQLiteErrors {
    static func mapped(_ error: any Error) -> any Error {
        guard let error = error as? DatabaseError else { return error }
        let message = error.message ?? "SQLite error \(error.resultCode.rawValue)"
        switch error.resultCode {
        case .SQLITE_FULL: return StoreError.database(sqlState: "53100", message: message)
        case .SQLITE_IOERR, .SQLITE_CANTOPEN, .SQLITE_READONLY: return StoreError.database(sqlState: "58030", message: message)
        case .SQLITE_BUSY, .SQLITE_LOCKED: return StoreError.database(sqlState: "55P03", message: message)
        case .SQLITE_CORRUPT, .SQLITE_NOTADB: return StoreError.database(sqlState: "XX001", message: message)
        default: return error
        }
    }

    /// Runs `body`, rethrowing SQLite's failures mapped.
    static func mapping<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch { throw mapped(error) }
    }
}
