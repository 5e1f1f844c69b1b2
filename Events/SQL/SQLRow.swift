import Foundation

/// One row of a result, read by column name or position: `let name: String = row["name"]`.
///
/// Reading a NULL or a value of another kind into a non-optional is a programming error (the
/// schema says what each column holds) and stops with the column's name, never its value.
public struct SQLRow: Sendable {
    /// The result's column names, shared by its rows.
    public let columns: SQLColumns
    public let values: [SQLValue]

    public init(columns: SQLColumns, values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    public subscript<Value: SQLReadable>(_ index: Int) -> Value {
        guard let value = Value(sqlValue: values[index]) else {
            preconditionFailure("column \(index) (\(columns.names[index])) does not hold a \(Value.self)")
        }
        return value
    }

    public subscript<Value: SQLReadable>(_ index: Int) -> Value? {
        values[index] == .null ? nil : self[index] as Value
    }

    public subscript<Value: SQLReadable>(_ name: String) -> Value {
        self[columns.index(of: name)]
    }

    public subscript<Value: SQLReadable>(_ name: String) -> Value? {
        self[columns.index(of: name)]
    }
}

/// The column names of a result, with their positions.
public final class SQLColumns: Sendable {
    public let names: [String]
    private let positions: [String: Int]

    public init(_ names: [String]) {
        self.names = names
        positions = Dictionary(names.enumerated().map { ($1, $0) }) { first, _ in first }
    }

    func index(of name: String) -> Int {
        guard let index = positions[name] else { preconditionFailure("no column \(name) in the result") }
        return index
    }
}
