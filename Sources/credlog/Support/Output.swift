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

    /// Prints rows as a table whose columns are as wide as their widest cell.
    static func table(_ header: [String], _ rows: [[String]]) {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        for row in all {
            let cells = row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
            }
            line(cells.joined(separator: "  "))
        }
    }

    /// A time as a table shows it: to the second (`--json` keeps the microseconds). Text that
    /// is not a time (a row written by someone else) is shown as it is.
    static func time(_ iso8601: String) -> String {
        Timestamp(iso8601: iso8601)?.iso8601Seconds ?? iso8601
    }
}
