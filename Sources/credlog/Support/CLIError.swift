import ArgumentParser
import CredlogDomain
import CredlogLifecycle
import CredlogEvents
import Foundation

/// Errors of the command line itself.
enum CLIError: Error, CustomStringConvertible {
    case usage(String)
    case integrity(String)

    var description: String {
        switch self {
        case .usage(let message), .integrity(let message): message
        }
    }
}

/// Exit codes, one per kind of failure (documented in the README).
enum ExitStatus: Int32 {
    case failure = 1
    case usage = 64
    case invalidInput = 65
    case notFound = 66
    case integrity = 69
    case conflict = 75
    case forbidden = 77
    case configuration = 78

    static func of(_ error: any Error) -> ExitStatus {
        switch error {
        case let error as DomainError:
            switch error {
            case .notFound: .notFound
            case .forbidden: .forbidden
            case .invalid: .invalidInput
            case .alreadyExists, .connectionDeleted: .conflict
            }
        case let error as StoreError:
            switch error {
            case .wrongExpectedVersion, .idempotencyKeyReused: .conflict
            case .emptyAppend: .invalidInput
            case .notInitialised, .badLocation, .newerSchema: .configuration
            case .database: .failure
            }
        case let error as KeyError:
            switch error {
            case .cannotOpen, .keyringDamaged: .integrity
            case .dataKeyShredded: .notFound
            default: .configuration
            }
        case let error as CLIError:
            switch error {
            case .usage: .usage
            case .integrity: .integrity
            }
        case is CorruptEventRow, is EventDecodingError: .integrity
        case is ConnectionInactive: .conflict
        case is LogCopy.TargetNotEmpty: .configuration
        case is OAuth2Flow.Failure: .invalidInput
        default: .failure
        }
    }
}

/// Runs a command body; on failure prints one line on stderr and exits with the matching code.
func reportingErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        let message: String
        switch error {
        case let error as CustomStringConvertible where error is DomainError || error is StoreError || error is KeyError
            || error is CLIError || error is CorruptEventRow || error is EventDecodingError
            || error is ConnectionInactive || error is OAuth2Flow.Failure || error is LogCopy.TargetNotEmpty:
            message = error.description
        default:
            // Foreign errors (SQLite, file system) can quote data; print only their kind.
            message = "unexpected \(type(of: error)) error: \(safeSummary(of: error))"
        }
        FileHandle.standardError.write(Data("credlog: error: \(message)\n".utf8))
        throw ExitCode(ExitStatus.of(error).rawValue)
    }
}

/// A one-line summary of an error from a dependency, without the data it may quote.
private func safeSummary(of error: any Error) -> String {
    let text = String(describing: error).split(separator: "\n").first.map(String.init) ?? ""
    return String(text.prefix(200))
}
