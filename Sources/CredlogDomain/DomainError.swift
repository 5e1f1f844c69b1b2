import CredlogEvents

/// The engine asked for the credentials of an inactive (expired or revoked) connection: there is
/// nothing usable to hand over until an admin reconnects it.
public struct ConnectionInactive: Error, Equatable, CustomStringConvertible {
    public var connectionId: String
    public var reason: String
    public var description: String { "connection \(connectionId) is inactive (\(reason)): an admin must reconnect it" }
}

/// Why a command was refused. Messages are shown to users and kept in the audit
/// trail, so they never contain a secret.
public enum DomainError: Error, Equatable, CustomStringConvertible {
    /// No such thing, or the caller may not see it (another project's data looks absent).
    case notFound(String)
    /// The caller may see it but not do this.
    case forbidden(String)
    /// The input breaks a rule.
    case invalid(String)
    case alreadyExists(String)
    /// Nothing happens to a deleted connection.
    case connectionDeleted(String)

    public var description: String {
        switch self {
        case .notFound(let what): "\(what) not found"
        case .forbidden(let why): "forbidden: \(why)"
        case .invalid(let why): "invalid input: \(why)"
        case .alreadyExists(let what): "\(what) already exists"
        case .connectionDeleted(let id): "connection \(id) was deleted: nothing more can happen to it"
        }
    }
}

extension ConnectionInactive: CategorizedError {
    public var category: ErrorCategory { .conflict }
}

extension DomainError: CategorizedError {
    public var category: ErrorCategory {
        switch self {
        case .notFound: .notFound
        case .forbidden: .forbidden
        case .invalid: .invalid
        case .alreadyExists, .connectionDeleted: .conflict
        }
    }
}
