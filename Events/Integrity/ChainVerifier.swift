import Foundation
import GRDB

/// What `verify` found.
public struct VerificationReport: Sendable, Equatable {
    /// How many events were checked.
    public var eventCount: Int64
    /// The last event checked, as `position:hash`; `nil` for an empty log.
    public var head: ChainHeadReference?
    /// The first position where the log is not what was written, and why.
    public var firstProblem: Problem?

    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        public var position: Int64
        public var reason: String
        public var description: String { "position \(position): \(reason)" }
    }

    public var isIntact: Bool { firstProblem == nil }
}

/// A point of the log that a reader can keep and check later: `position:hash`.
public struct ChainHeadReference: Sendable, Equatable, CustomStringConvertible {
    public var position: Int64
    public var hash: String

    public init(position: Int64, hash: String) {
        self.position = position
        self.hash = hash
    }

    /// Parses `POSITION:HASH`.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, let position = Int64(parts[0]), position > 0,
              let bytes = [UInt8](hex: String(parts[1])), bytes.count == 32 else { return nil }
        self.init(position: position, hash: bytes.hex)
    }

    public var description: String { "\(position):\(hash)" }
}

/// Recomputes the hash chain over the whole log.
public struct ChainVerifier: Sendable {
    let chain: ChainHasher

    public init(chain: ChainHasher) { self.chain = chain }

    /// Checks every row in position order: positions 1, 2, 3… with no gap, each hash
    /// chained to the one before. With `expectedHead`, also checks that the log still
    /// contains that point (catches a log rolled back or truncated since it was taken).
    public func verify(_ database: DatabasePool, expectedHead: ChainHeadReference? = nil) throws -> VerificationReport {
        try database.read { db in
            var previous = ChainHasher.genesis
            var expectedPosition: Int64 = 1
            var report = VerificationReport(eventCount: 0, head: nil, firstProblem: nil)
            var hashAtExpected: String?
            let rows = try Row.fetchCursor(db, sql: """
                SELECT position, stream_id, stream_version, event_id, event_type, schema_version, recorded_at, actor_id,
                       actor_role, project_id, correlation_id, causation_id, CAST(payload AS TEXT), hash
                FROM events ORDER BY position
                """)
            while let row = try rows.next() {
                let position: Int64 = row[0]
                guard position == expectedPosition else {
                    report.firstProblem = .init(position: expectedPosition,
                        reason: position > expectedPosition ? "missing (the next row is \(position))" : "out of order")
                    return report
                }
                let stored = row.dataNoCopy(atIndex: 13).map { [UInt8]($0) } ?? []
                let computed = try chain.hash(previous: previous, row: row)
                guard Sodium.constantTimeEqual(stored, computed) else {
                    report.firstProblem = .init(position: position,
                        reason: "hash mismatch: the row was edited, replaced or moved, or an earlier row was removed")
                    return report
                }
                previous = stored
                report.eventCount += 1
                expectedPosition += 1
                if position == expectedHead?.position { hashAtExpected = stored.hex }
            }
            if report.eventCount > 0 { report.head = ChainHeadReference(position: report.eventCount, hash: previous.hex) }
            if let expected = expectedHead {
                if let found = hashAtExpected {
                    if found != expected.hash {
                        report.firstProblem = .init(position: expected.position,
                            reason: "differs from the expected head: the log was rewritten from here")
                    }
                } else {
                    report.firstProblem = .init(position: report.eventCount + 1,
                        reason: "the log ends at \(report.eventCount), before the expected head \(expected.position): it was truncated or rolled back")
                }
            }
            return report
        }
    }
}
