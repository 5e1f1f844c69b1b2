import ArgumentParser
import CredlogEvents
import Foundation
import Logging

/// How `credlog serve` writes its log: lines for people, or JSON objects for log shippers.
enum LogFormat: String, CaseIterable, ExpressibleByArgument {
    case text, json

    /// A logger labelled `label` writing to standard error in this format.
    func logger(_ label: String, level: Logger.Level) -> Logger {
        var logger = switch self {
        case .text: Logger(label: label)
        case .json: Logger(label: label) { label in JSONLogHandler(label: label) }
        }
        logger.logLevel = level
        return logger
    }
}

/// One JSON object per line on standard error: `time` (UTC, ISO 8601), `level`, `label`,
/// `message`, and each metadata key (nested values as their text). Keys are sorted, so equal
/// entries give equal lines; a line break in a value is escaped by JSON, so one entry is one line.
struct JSONLogHandler: LogHandler {
    let label: String
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        FileHandle.standardError.write(Self.line(label: label, event: event, metadata: metadata, at: .now()))
    }

    /// The entry's line, newline included.
    static func line(label: String, event: LogEvent, metadata: Logger.Metadata, at time: Timestamp) -> Data {
        var fields = metadata.merging(event.metadata ?? [:]) { $1 }.mapValues(\.description)
        fields["time"] = time.iso8601
        fields["level"] = event.level.rawValue
        fields["label"] = label
        fields["message"] = event.message.description
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return ((try? encoder.encode(fields)) ?? Data(#"{"message":"unencodable log entry"}"#.utf8)) + Data("\n".utf8)
    }
}
