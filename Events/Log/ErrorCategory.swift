/// What kind of failure an error is. Whoever answers maps the category once: the command line
/// to an exit code, the HTTP API to a status. Every error of credlog's own has one.
public enum ErrorCategory: Sendable, Equatable {
    /// The command or request itself is malformed (a missing option, a callback without its state).
    case usage
    /// The input breaks a rule: a name, credentials, a reason; an idempotency key reused for
    /// another command.
    case invalid
    /// No such thing, or not visible to the caller (another project's data looks absent).
    case notFound
    /// Visible, but the caller's role may not do this.
    case forbidden
    /// The state does not allow it now: it exists already, it was deleted, it is inactive, or
    /// another writer moved the stream on.
    case conflict
    /// The log or its keys failed a check: tampering or damage.
    case integrity
    /// No database, no key, a wrong key, a database of another version or already in use.
    case configuration
    /// The database is away, full or busy for now: retry.
    case unavailable
    /// Anything else (a bug, an unexpected answer from a dependency).
    case failure
}

/// An error of credlog's own: its category, and a description that holds no secret (safe to
/// print, to answer with and to keep in the audit trail).
public protocol CategorizedError: Error, CustomStringConvertible {
    var category: ErrorCategory { get }
}

extension StoreError: CategorizedError {
    public var category: ErrorCategory {
        switch self {
        case .wrongExpectedVersion: .conflict
        case .idempotencyKeyReused, .emptyAppend: .invalid
        case .notInitialised, .badLocation, .newerSchema: .configuration
        case .outsideServiceScope: .failure
        case .database(let sqlState, _):
            // Lost connection (08…), server shutting down (57P…), disk full or out of resources
            // (53…), an I/O error (58…), a busy lock (55P03): worth a retry.
            ["08", "57P", "53", "58", "55P03"].contains(where: sqlState.hasPrefix) ? .unavailable : .failure
        }
    }
}

extension KeyError: CategorizedError {
    public var category: ErrorCategory {
        switch self {
        case .cannotOpen, .keyringDamaged: .integrity
        case .dataKeyShredded: .conflict
        case .missingMasterKey, .malformedMasterKey, .keyFileTooOpen, .cannotWriteKeyFile, .wrongMasterKey, .alreadyInitialised:
            .configuration
        }
    }
}

extension CorruptEventRow: CategorizedError {
    public var category: ErrorCategory { .integrity }
}

extension EventDecodingError: CategorizedError {
    public var category: ErrorCategory { .integrity }
}

extension LogCopy.TargetNotEmpty: CategorizedError {
    public var category: ErrorCategory { .configuration }
}
