import Foundation

/// The table the benchmark prints: one row per figure, side by side with the references.
struct Report {
    struct Row {
        var workload: String
        var unit: String
        var credlog: Double
        var raw: Double?
        var python: Double?
        /// True when a larger figure is better (throughput), false for latency and memory.
        var higherIsBetter: Bool
        var target: String
        var met: Bool?
        /// The same workload with credlog's log in PostgreSQL (a local cluster), when measured.
        var postgres: Double? = nil
    }

    var rows: [Row] = []
    var notes: [String] = []

    mutating func add(_ row: Row) { rows.append(row) }

    static func figure(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "n/a" }
        switch value {
        case 1_000...: return String(format: "%.0f", value)
        case 10...: return String(format: "%.1f", value)
        default: return String(format: "%.3f", value)
        }
    }

    /// credlog divided by the reference, oriented so that above 1 means credlog is better.
    static func ratio(_ credlog: Double, _ reference: Double?, higherIsBetter: Bool) -> String {
        guard let reference, reference > 0, credlog > 0 else { return "n/a" }
        return String(format: "%.2fx", higherIsBetter ? credlog / reference : reference / credlog)
    }

    func print(header: String) {
        let columns = ["workload", "unit", "credlog", "raw SQLite (C)", "Python eventsourcing", "vs raw", "vs Python", "target", "met",
                       "credlog on PostgreSQL", "PostgreSQL vs SQLite"]
        let cells = rows.map { row in
            [row.workload, row.unit, Self.figure(row.credlog), Self.figure(row.raw), Self.figure(row.python),
             Self.ratio(row.credlog, row.raw, higherIsBetter: row.higherIsBetter),
             Self.ratio(row.credlog, row.python, higherIsBetter: row.higherIsBetter), row.target,
             row.met.map { $0 ? "yes" : "NO" } ?? "-", row.postgres == nil ? "-" : Self.figure(row.postgres),
             row.postgres.map { Self.ratio($0, row.credlog, higherIsBetter: row.higherIsBetter) } ?? "-"]
        }
        Swift.print(header)
        Swift.print("")
        Swift.print("| " + columns.joined(separator: " | ") + " |")
        Swift.print("|" + columns.map { _ in "---" }.joined(separator: "|") + "|")
        for row in cells { Swift.print("| " + row.joined(separator: " | ") + " |") }
        if !notes.isEmpty {
            Swift.print("")
            for note in notes { Swift.print("- " + note) }
        }
    }
}
