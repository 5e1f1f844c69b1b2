import Foundation

/// One row of a result, read by column name or position: `let name: String = try row["name"]`.
///
/// Rows may have been written by someone else (whoever can write to the database file): a NULL
/// or a value of another kind where the schema says otherwise is an error naming the column,
/// never a crash, and never its value.
public struct SQLRow: Sendable {
    /// The result's column names, shared by its rows.
    public let columns: SQLColumns
    public let values: [SQLValue]

    public init(columns: SQLColumns, values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    public subscript<Value: SQLReadable>(_ index: Int) -> Value {
        get throws {
            guard values.indices.contains(index), let value = Value(sqlValue: values[index]) else {
                throw UnexpectedRow(column: columns.names.indices.contains(index) ? columns.names[index] : "#\(index)",
                                    expected: "\(Value.self)")
            }
            return value
        }
    }

    public subscript<Value: SQLReadable>(_ index: Int) -> Value? {
        get throws { values.indices.contains(index) && values[index] == .null ? nil : try self[index] as Value }
    }

    public subscript<Value: SQLReadable>(_ name: String) -> Value {
        get throws { try self[try columns.index(of: name)] }
    }

    public subscript<Value: SQLReadable>(_ name: String) -> Value? {
        get throws { try self[try columns.index(of: name)] }
    }
}

/// A row that does not hold what the schema says (edited by hand, or by someone else).
public struct UnexpectedRow: Error, CustomStringConvertible {
    public let column: String
    public let expected: String
    public init(column: String, expected: String) {
        self.column = column
        self.expected = expected
    }
    public var description: String {
        "a row of the database does not hold what credlog wrote there (column \(column), expected \(expected)): "
            + "it was changed outside credlog; run `credlog verify`"
    }
}

/// The column names of a result, shared by its rows.
public final class SQLColumns: Sendable {
    public let names: [String]

    public init(_ names: [String]) {
        self.names = names
    }

    /// The first column of that name. A search, not a table: results have a few columns, and
    /// most are read by position.
    func index(of name: String) throws -> Int {
        guard let index = names.firstIndex(of: name) else { throw UnexpectedRow(column: name, expected: "a column of that name") }
        return index
    }
}
