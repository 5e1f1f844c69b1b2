import Foundation
import NIOCore
import PostgresNIO
import Synchronization

/// Many rows into one table with `COPY … FROM STDIN`: one statement that PostgreSQL parses once,
/// its rows streamed in COPY's text format, instead of one `INSERT` (parsed and planned anew) per
/// 64 rows. A rebuild writes thousands of read-model rows per batch and `migrate` a log's whole
/// history this way.
extension PostgresSession {
    /// Fewer rows than this go as `INSERT`s, sent ahead without waiting (a COPY waits for its answer).
    static let fewestRowsToCopy = 32

    public func insert(into table: String, columns: [String], rows: [[SQLValue]]) throws {
        guard rows.count >= Self.fewestRowsToCopy else { return try insertStatements(into: table, columns: columns, rows: rows) }
        guard rows.allSatisfy({ $0.count == columns.count }) else { throw StoreError.wrongArgumentCount }
        try copy(into: table, columns: columns, data: Self.copyText(rows))
    }

    /// Streams `data` (rows in COPY's text format) into `table` and waits for PostgreSQL's answer.
    /// The statements sent ahead are settled first: a COPY is alone on its connection.
    private func copy(into table: String, columns: [String], data: ByteBuffer) throws {
        try settle()
        guard !connection.isClosed else { throw Self.closedConnection }
        let outcome = CopyOutcome()
        let (connection, logger) = (connection, logger)
        written.count.add(1, ordering: .releasing)
        Task {
            do {
                try await connection.copyFrom(table: table, columns: columns, logger: logger) { writer in try await writer.write(data) }
                outcome.finish(nil)
            } catch {
                outcome.finish(error)
            }
        }
        // No answer in time: the connection is closed, which fails the COPY (and the pool replaces
        // the connection) instead of leaving this thread waiting for ever.
        if outcome.done.wait(timeout: .now() + .nanoseconds(Int(answerDeadline.nanoseconds))) == .timedOut {
            let _: EventLoopFuture<Void> = connection.close()
            outcome.done.wait()
        }
        if let failure = outcome.failure {
            throw (failure as? PSQLError).map(Self.storeError) ?? failure
        }
    }

    /// `rows` in COPY's text format: values separated by tabs, rows ended by a newline, `\N` for
    /// NULL, and a backslash before a backslash, tab, newline or carriage return of a text.
    static func copyText(_ rows: [[SQLValue]]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(rows.count * (rows.first?.count ?? 1) * 24)
        for row in rows {
            for (index, value) in row.enumerated() {
                if index > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
                switch value {
                case .null: buffer.writeStaticString("\\N")
                case .integer(let integer): buffer.writeString(String(integer))
                case .real(let real): buffer.writeString(real.isNaN ? "NaN" : real.isInfinite ? (real < 0 ? "-Infinity" : "Infinity") : "\(real)")
                case .text(let text): writeEscaped(text, to: &buffer)
                case .blob(let data):
                    // bytea's hex input, its backslash doubled for COPY.
                    buffer.writeStaticString("\\\\x")
                    buffer.writeString(Array(data).hex)
                }
            }
            buffer.writeInteger(UInt8(ascii: "\n"))
        }
        return buffer
    }

    private static func writeEscaped(_ text: String, to buffer: inout ByteBuffer) {
        var text = text
        text.withUTF8 { bytes in
            var start = 0
            for (index, byte) in bytes.enumerated() {
                let escaped: UInt8
                switch byte {
                case UInt8(ascii: "\\"): escaped = UInt8(ascii: "\\")
                case UInt8(ascii: "\t"): escaped = UInt8(ascii: "t")
                case UInt8(ascii: "\n"): escaped = UInt8(ascii: "n")
                case UInt8(ascii: "\r"): escaped = UInt8(ascii: "r")
                default: continue
                }
                buffer.writeBytes(UnsafeBufferPointer(rebasing: bytes[start..<index]))
                buffer.writeInteger(UInt8(ascii: "\\"))
                buffer.writeInteger(escaped)
                start = index + 1
            }
            buffer.writeBytes(UnsafeBufferPointer(rebasing: bytes[start...]))
        }
    }
}

/// The end of a COPY run by a task, waited for by the session's thread.
private final class CopyOutcome: Sendable {
    let done = DispatchSemaphore(value: 0)
    private let error = Mutex<(any Error)?>(nil)

    var failure: (any Error)? { error.withLock { $0 } }

    func finish(_ failure: (any Error)?) {
        error.withLock { $0 = failure }
        done.signal()
    }
}
