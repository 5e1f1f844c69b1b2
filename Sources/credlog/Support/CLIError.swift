import ArgumentParser
import CredlogEvents
import Foundation

/// Errors of the command line itself.
enum CLIError: CategorizedError {
    case usage(String)
    case integrity(String)

    var description: String {
        switch self {
        case .usage(let message), .integrity(let message): message
        }
    }

    var category: ErrorCategory {
        switch self {
        case .usage: .usage
        case .integrity: .integrity
        }
    }
}

/// Exit codes, one per category of failure (documented in the README).
enum ExitStatus: Int32 {
    case failure = 1
    case usage = 64
    case invalidInput = 65
    case notFound = 66
    case integrity = 69
    case conflict = 75
    case forbidden = 77
    case configuration = 78

    init(_ category: ErrorCategory) {
        self = switch category {
        case .usage: .usage
        case .invalid: .invalidInput
        case .notFound: .notFound
        case .forbidden: .forbidden
        case .conflict: .conflict
        case .integrity: .integrity
        case .configuration: .configuration
        case .unavailable, .failure: .failure
        }
    }
}

extension Credlog {
    /// Reports an error a command's `run` threw: one line on stderr, and the exit code of its
    /// category. Errors from dependencies (SQLite, the file system) can quote data: only their
    /// kind is printed.
    static func exit(reporting error: any Error) -> Never {
        let message: String
        let status: ExitStatus
        switch error {
        case let error as any CategorizedError:
            (message, status) = (error.description, ExitStatus(error.category))
        case _ where String(reflecting: type(of: error)).hasPrefix("ArgumentParser."):
            // Its own (help requested, a validation error, `ExitCode`): it prints and exits.
            exit(withError: error)
        default:
            (message, status) = ("unexpected \(type(of: error)) error: \(safeSummary(of: error))", .failure)
        }
        FileHandle.standardError.write(Data("credlog: error: \(message)\n".utf8))
        exit(withError: ExitCode(status.rawValue))
    }
}

/// A one-line summary of an error from a dependency, without the data it may quote.
private func safeSummary(of error: any Error) -> String {
    let text = String(describing: error).split(separator: "\n").first.map(String.init) ?? ""
    return String(text.prefix(200))
}
