import CredlogEvents
import Foundation

/// What comes with every command besides its arguments: who, when, and how to tie it to others.
public struct CommandContext: Sendable {
    public var principal: Principal
    /// The decision time (the store never records times going backwards).
    public var now: Timestamp
    /// Ties the command's events to others (a flow run id, an HTTP request id); a new one by default.
    public var correlationId: String
    /// Retrying a command with the same key appends nothing new and returns the first result.
    public var idempotencyKey: String?
    /// This command's own id: the causation id of the events it appends.
    public var commandId: String
    /// Act only if the connection is still at this version (HTTP `If-Match`); else ``VersionMismatch``.
    public var expectedVersion: Int64?
    /// The only project the caller may act on (an access token's project); others look absent.
    public var projectScope: String?
    /// How the command arrived (`cli`, `http`), kept with credential reads.
    public var via: String

    public init(principal: Principal, now: Timestamp = .now(), correlationId: String? = nil, idempotencyKey: String? = nil,
                expectedVersion: Int64? = nil, projectScope: String? = nil, via: String = "cli") {
        self.principal = principal
        self.now = now
        self.correlationId = correlationId ?? UUID.random().uuidString.lowercased()
        self.idempotencyKey = idempotencyKey
        commandId = UUID.random().uuidString.lowercased()
        self.expectedVersion = expectedVersion
        self.projectScope = projectScope
        self.via = via
    }

    /// Whether the caller may act on `projectId` at all.
    public func mayReach(_ projectId: String?) -> Bool {
        guard let projectScope else { return true }
        return projectId == projectScope
    }
}

/// The connection moved on since the version the caller read (a stale `If-Match`): nothing was done.
public struct VersionMismatch: CategorizedError, Equatable {
    public var expected: Int64
    public var current: Int64
    public var category: ErrorCategory { .conflict }

    public var description: String {
        "the connection is at version \(current), not \(expected): read it again and retry"
    }
}

/// What a command did.
public struct CommandOutcome: Sendable, Equatable {
    /// The stream the command addressed.
    public var stream: StreamID
    /// Where its events landed, or `nil` when it changed nothing.
    public var append: AppendResult?
    /// The stream's version after the command (the version it was decided on, if it changed nothing).
    public var streamVersion: Int64

    public init(stream: StreamID, append: AppendResult?, versionIfUnchanged: Int64 = 0) {
        self.stream = stream
        self.append = append
        streamVersion = append?.streamVersion ?? versionIfUnchanged
    }

    /// True when nothing was appended (a no-op such as renaming to the same name).
    public var changedNothing: Bool { append?.positions == nil }

    /// True when an earlier command with the same idempotency key did the work.
    public var replayed: Bool { append?.isReplay ?? false }

    /// The log positions of the first and last events appended.
    public var firstPosition: Int64? { append?.positions?.lowerBound }
    public var lastPosition: Int64? { append?.positions?.upperBound }
}
