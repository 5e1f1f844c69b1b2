import CredlogEvents
import Foundation

/// How a report is written.
public enum ReportFormat: String, Sendable, CaseIterable {
    /// Aligned columns for people.
    case table
    /// RFC 4180: CRLF line ends, fields quoted when they hold a comma, a quote or a line break;
    /// a field that would start a spreadsheet formula is prefixed with `'`.
    case csv
    /// One JSON array of objects keyed by column name, an object per line.
    case json
    /// One JSON object per line.
    case jsonl

    /// Renders `rows` under `columns`.
    public func render(columns: [String], rows: [[String?]]) throws -> String {
        guard self == .table else { return head(columns: columns) + (try body(columns: columns, rows: rows, first: true)) + tail }
        var widths = columns.map(\.count)
        Self.widen(&widths, rows)
        return table(columns, widths: widths) + table(rows, widths: widths)
    }

    /// Whether a report in this format can be written as its rows are read: every format but
    /// the table, whose columns are as wide as their widest cell.
    public var streams: Bool { self != .table }

    /// What comes before the rows: the CSV header, the opening of the JSON array.
    public func head(columns: [String]) -> String {
        switch self {
        case .csv: Self.csvLine(columns)
        case .json: "["
        case .table, .jsonl: ""
        }
    }

    /// Some of the rows, in order; `first` when they are the report's first (a JSON array puts a
    /// comma before every other object). One JSON object per line in JSON and JSONL.
    public func body(columns: [String], rows: [[String?]], first: Bool) throws -> String {
        switch self {
        case .table:
            var widths = columns.map(\.count)
            Self.widen(&widths, rows)
            return table(rows, widths: widths)
        case .csv:
            return rows.map { Self.csvLine($0.map { $0 ?? "" }) }.joined()
        case .json:
            return try rows.enumerated().map { index, row in
                (first && index == 0 ? "\n" : ",\n") + (try Self.jsonObject(columns, row))
            }.joined()
        case .jsonl:
            return try rows.map { try Self.jsonObject(columns, $0) + "\n" }.joined()
        }
    }

    /// What comes after the rows.
    public var tail: String { self == .json ? "\n]\n" : "" }

    /// Widens `widths` to the widest cell of each column of `rows`.
    public static func widen(_ widths: inout [Int], _ rows: [[String?]]) {
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], (cell ?? "").count) }
        }
    }

    /// The header, then rows, each padded to `widths`: a table written batch by batch once the
    /// widths of all its rows are known.
    public func table(_ columns: [String], widths: [Int]) -> String { table([columns.map { Optional($0) }], widths: widths) }

    /// Rows padded to `widths`, one line each.
    public func table(_ rows: [[String?]], widths: [Int]) -> String {
        rows.map { row in
            row.enumerated().map { index, cell in
                let text = cell ?? ""
                return index == row.count - 1 ? text : text + String(repeating: " ", count: max(0, widths[index] - text.count))
            }.joined(separator: "  ") + "\n"
        }.joined()
    }

    private static func csvLine(_ fields: [String]) -> String { fields.map(csvField).joined(separator: ",") + "\r\n" }

    private static func jsonObject(_ columns: [String], _ row: [String?]) throws -> String {
        let data = try JSONSerialization.data(withJSONObject: object(columns, row), options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
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
