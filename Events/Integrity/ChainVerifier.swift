import Foundation
import GRDB
import GRDBSQLite
import Synchronization

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
///
/// Each row's hash covers the stored hash of the row before, so rows can be checked
/// independently against their stored predecessor: the log is cut into ranges checked in
/// parallel (one read transaction each, columns read in place), and the first problem of all
/// ranges is the answer. Rows up to the head read at the start never change (the log is
/// append-only and its triggers refuse edits), so the ranges see the same rows.
public struct ChainVerifier: Sendable {
    let chain: ChainHasher
    /// Rows per range, at least (smaller logs are one range).
    let minimumRange: Int64

    /// - Parameter minimumRange: rows per parallel range, at least (tests make it small).
    public init(chain: ChainHasher, minimumRange: Int64 = 50_000) {
        self.chain = chain
        self.minimumRange = max(1, minimumRange)
    }

    /// Checks every row in position order: positions 1, 2, 3… with no gap, each hash
    /// chained to the one before. With `expectedHead`, also checks that the log still
    /// contains that point (catches a log rolled back or truncated since it was taken).
    public func verify(_ database: DatabasePool, expectedHead: ChainHeadReference? = nil) throws -> VerificationReport {
        let last = try database.read { db in try Int64.fetchOne(db, sql: "SELECT MAX(position) FROM events") ?? 0 }
        let workers = Int64(max(1, ProcessInfo.processInfo.activeProcessorCount))
        let size = max(minimumRange, (last + workers - 1) / workers)
        let ranges = last == 0 ? [] : stride(from: Int64(1), through: last, by: Int(size)).map { $0...min($0 + size - 1, last) }
        let results = Mutex([Result<VerificationReport.Problem?, any Error>](repeating: .success(nil), count: ranges.count))
        DispatchQueue.concurrentPerform(iterations: ranges.count) { index in
            let result = Result { try database.read { db in try check(ranges[index], db) } }
            results.withLock { $0[index] = result }
        }
        var report = VerificationReport(eventCount: last, head: nil, firstProblem: nil)
        for result in results.withLock({ $0 }) {
            if let problem = try result.get() {
                report.firstProblem = problem
                report.eventCount = problem.position - 1
                return report
            }
        }
        if last > 0 {
            let hash = try database.read { db in try Data.fetchOne(db, sql: "SELECT hash FROM events WHERE position = ?", arguments: [last]) }
            report.head = ChainHeadReference(position: last, hash: [UInt8](hash ?? Data()).hex)
        }
        if let expected = expectedHead {
            if expected.position > last {
                report.firstProblem = .init(position: last + 1,
                    reason: "the log ends at \(last), before the expected head \(expected.position): it was truncated or rolled back")
            } else {
                let found = try database.read { db in
                    try Data.fetchOne(db, sql: "SELECT hash FROM events WHERE position = ?", arguments: [expected.position])
                }
                if found.map({ [UInt8]($0).hex }) != expected.hash {
                    report.firstProblem = .init(position: expected.position,
                        reason: "differs from the expected head: the log was rewritten from here")
                }
            }
        }
        return report
    }

    /// The first problem in a range of positions, or `nil` when every row is in place and chained.
    private func check(_ range: ClosedRange<Int64>, _ db: Database) throws -> VerificationReport.Problem? {
        var previous = range.lowerBound == 1 ? ChainHasher.genesis
            : [UInt8](try Data.fetchOne(db, sql: "SELECT hash FROM events WHERE position = ?",
                                        arguments: [range.lowerBound - 1]) ?? Data())
        var expectedPosition = range.lowerBound
        let prefix = chain.keyedPrefix()
        let statement = try db.makeStatement(sql: """
            SELECT position, stream_id, stream_version, event_id, event_type, schema_version, recorded_at, actor_id,
                   actor_role, project_id, correlation_id, causation_id, CAST(payload AS TEXT), hash
            FROM events WHERE position BETWEEN ? AND ? ORDER BY position
            """)
        let rows = try Row.fetchCursor(statement, arguments: [range.lowerBound, range.upperBound])
        let sqlite = statement.sqliteStatement
        while try rows.next() != nil {
            let position = sqlite3_column_int64(sqlite, 0)
            guard position == expectedPosition else {
                return .init(position: expectedPosition,
                             reason: position > expectedPosition ? "missing (the next row is \(position))" : "out of order")
            }
            let stored = UnsafeRawBufferPointer(start: sqlite3_column_blob(sqlite, 13), count: Int(sqlite3_column_bytes(sqlite, 13)))
            let computed = previous.withUnsafeBytes { chain.hash(previous: $0, statement: sqlite, prefix: prefix) }
            guard stored.count == computed.count, Sodium.constantTimeEqual([UInt8](stored), computed) else {
                return .init(position: position,
                             reason: "hash mismatch: the row was edited, replaced or moved, or an earlier row was removed")
            }
            previous = computed
            expectedPosition += 1
        }
        guard expectedPosition > range.upperBound else {
            return .init(position: expectedPosition, reason: "missing (the log ends before \(range.upperBound))")
        }
        return nil
    }
}
