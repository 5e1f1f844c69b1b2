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
    /// SQLite's rows are checked in parallel ranges, read in place; PostgreSQL's in batches.
    public func verify(_ database: any SQLDatabase, expectedHead: ChainHeadReference? = nil) async throws -> VerificationReport {
        let last: Int64 = try await database.read { db in try db.fetchValue(sql: "SELECT MAX(position) FROM events") ?? 0 }
        var report = VerificationReport(eventCount: last, head: nil, firstProblem: nil)
        let problem = if let sqlite = database.underlying as? SQLiteDatabase {
            try checkInParallel(sqlite.pool, through: last)
        } else {
            try await checkInBatches(database, through: last)
        }
        if let problem {
            report.firstProblem = problem
            report.eventCount = problem.position - 1
            return report
        }
        if last > 0 {
            report.head = ChainHeadReference(position: last, hash: try await storedHash(at: last, database)?.hex ?? "")
        }
        if let expected = expectedHead {
            if expected.position > last {
                report.firstProblem = .init(position: last + 1,
                    reason: "the log ends at \(last), before the expected head \(expected.position): it was truncated or rolled back")
            } else if try await storedHash(at: expected.position, database)?.hex != expected.hash {
                report.firstProblem = .init(position: expected.position,
                    reason: "differs from the expected head: the log was rewritten from here")
            }
        }
        return report
    }

    private func storedHash(at position: Int64, _ database: any SQLDatabase) async throws -> [UInt8]? {
        try await database.read { db in
            (try db.fetchValue(sql: "SELECT hash FROM events WHERE position = ?", arguments: [position]) as Data?).map { [UInt8]($0) }
        }
    }

    /// The first problem of a SQLite log, its ranges checked on every core.
    private func checkInParallel(_ pool: DatabasePool, through last: Int64) throws -> VerificationReport.Problem? {
        let workers = Int64(max(1, ProcessInfo.processInfo.activeProcessorCount))
        let size = max(minimumRange, (last + workers - 1) / workers)
        let ranges = last == 0 ? [] : stride(from: Int64(1), through: last, by: Int(size)).map { $0...min($0 + size - 1, last) }
        let results = Mutex([Result<VerificationReport.Problem?, any Error>](repeating: .success(nil), count: ranges.count))
        DispatchQueue.concurrentPerform(iterations: ranges.count) { index in
            let result = Result { try pool.read { db in try check(ranges[index], db) } }
            results.withLock { $0[index] = result }
        }
        for result in results.withLock({ $0 }) {
            if let problem = try result.get() { return problem }
        }
        return nil
    }

    /// The first problem of a log read through ``SQLDatabase``, a batch of rows at a time.
    private func checkInBatches(_ database: any SQLDatabase, through last: Int64) async throws -> VerificationReport.Problem? {
        var previous = ChainHasher.genesis
        var expectedPosition: Int64 = 1
        let batch: Int64 = 5_000
        while expectedPosition <= last {
            let rows = try await database.read { [expectedPosition] db in
                try db.fetchAll(sql: """
                    SELECT position, stream_id, stream_version, event_id, event_type, schema_version, recorded_at, actor_id,
                           actor_role, project_id, correlation_id, causation_id, payload, hash
                    FROM events WHERE position BETWEEN ? AND ? ORDER BY position
                    """, arguments: [expectedPosition, min(last, expectedPosition + batch - 1)])
            }
            for row in rows {
                let position: Int64 = try row[0]
                guard position == expectedPosition else {
                    return .init(position: expectedPosition,
                                 reason: position > expectedPosition ? "missing (the next row is \(position))" : "out of order")
                }
                let computed = chain.hash(previous: previous, row: ChainHasher.Row(
                    position: position, streamId: try row[1], streamVersion: try row[2], eventId: try row[3], eventType: try row[4],
                    schemaVersion: try row[5], recordedAt: try row[6], actorId: try row[7], actorRole: try row[8], projectId: try row[9],
                    correlationId: try row[10], causationId: try row[11], payload: try row[12]))
                guard Sodium.constantTimeEqual([UInt8](try row[13] as Data), computed) else {
                    return .init(position: position,
                                 reason: "hash mismatch: the row was edited, replaced or moved, or an earlier row was removed")
                }
                previous = computed
                expectedPosition += 1
            }
            if rows.isEmpty { break }
        }
        guard expectedPosition > last else { return .init(position: expectedPosition, reason: "missing (the log ends before \(last))") }
        return nil
    }

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
