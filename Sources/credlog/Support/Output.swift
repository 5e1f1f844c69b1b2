import Foundation
import CredlogEvents

/// Writes human output (aligned tables, lines) and JSON to standard output.
enum Output {
    static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    /// Prints a value as pretty, key-sorted JSON.
    static func json<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        line(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    /// Prints rows as a table whose columns are as wide as their widest cell. A cell that is a
    /// time prints to the second (`--json` keeps the microseconds).
    static func table(_ header: [String], _ rows: [[String]]) {
        let all = [header] + rows.map { $0.map(toTheSecond) }
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        for row in all {
            let cells = row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
            }
            line(cells.joined(separator: "  "))
        }
    }

    /// `cell` to the second if it is an ISO 8601 time with a fraction; else unchanged.
    private static func toTheSecond(_ cell: String) -> String {
        guard cell.utf8.count == 27, cell.hasSuffix("Z"), let time = Timestamp(iso8601: cell) else { return cell }
        return time.iso8601Seconds
    }
}
