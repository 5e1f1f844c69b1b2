import CredlogEvents
import Foundation

/// How a report is written.
public enum ReportFormat: String, Sendable, CaseIterable {
    /// Aligned columns for people.
    case table
    /// RFC 4180: CRLF line ends, fields quoted when they hold a comma, a quote or a line break;
    /// a field that would start a spreadsheet formula is prefixed with `'`.
    case csv
    /// One JSON array of objects keyed by column name.
    case json
    /// One JSON object per line.
    case jsonl

    /// Renders `rows` under `columns`.
    public func render(columns: [String], rows: [[String?]]) throws -> String {
        switch self {
        case .table:
            let cells = [columns] + rows.map { $0.map { $0 ?? "" } }
            let widths = columns.indices.map { column in cells.map { $0[column].count }.max() ?? 0 }
            return cells.map { row in
                row.enumerated().map { index, cell in
                    index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
                }.joined(separator: "  ")
            }.joined(separator: "\n") + "\n"
        case .csv:
            return ([columns] + rows.map { $0.map { $0 ?? "" } }).map { row in
                row.map(Self.csvField).joined(separator: ",")
            }.joined(separator: "\r\n") + "\r\n"
        case .json:
            let objects = rows.map { Self.object(columns, $0) }
            let data = try JSONSerialization.data(withJSONObject: objects, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            return String(decoding: data, as: UTF8.self) + "\n"
        case .jsonl:
            return try rows.map { row in
                let data = try JSONSerialization.data(withJSONObject: Self.object(columns, row), options: [.sortedKeys, .withoutEscapingSlashes])
                return String(decoding: data, as: UTF8.self) + "\n"
            }.joined()
        }
    }

    /// A field as CSV: quoted when needed, and a text a spreadsheet would run as a formula
    /// (starting with `=`, `+`, `-`, `@`, a tab or a carriage return: a connection named
    /// `=HYPERLINK(…)`) prefixed with `'`, so it stays text (OWASP's CSV injection advice).
    static func csvField(_ raw: String) -> String {
        let field = raw.unicodeScalars.first.map { "=+-@\t\r".unicodeScalars.contains($0) } == true ? "'" + raw : raw
        guard field.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func object(_ columns: [String], _ row: [String?]) -> [String: Any] {
        var object: [String: Any] = [:]
        for (column, value) in zip(columns, row) { object[column] = value ?? NSNull() }
        return object
    }
}
