/// The name of one stream in the log: one per connection, one per project (its membership).
public struct StreamID: Hashable, Sendable, Codable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }

    /// The stream holding one connection's events.
    public static func connection(_ id: String) -> StreamID { StreamID("connection:\(id)") }
    /// The stream holding one project's membership events.
    public static func project(_ id: String) -> StreamID { StreamID(projectPrefix + id) }
    /// What every project stream's name starts with (also the data keys of project secrets).
    public static let projectPrefix = "project:"

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// What an append expects the stream's current version to be (optimistic concurrency).
public enum ExpectedVersion: Sendable, Equatable, CustomStringConvertible {
    /// The stream must not exist yet.
    case noStream
    /// The stream's last event must have exactly this version (versions start at 1).
    case exact(Int64)
    /// No check.
    case any

    public var description: String {
        switch self {
        case .noStream: "no stream"
        case .exact(let version): "version \(version)"
        case .any: "any version"
        }
    }

    /// Whether a stream whose last version is `actual` (0 for none) satisfies this expectation.
    public func accepts(_ actual: Int64) -> Bool {
        switch self {
        case .noStream: actual == 0
        case .exact(let version): actual == version
        case .any: true
        }
    }
}
