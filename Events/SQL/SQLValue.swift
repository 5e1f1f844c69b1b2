import Foundation

/// A value bound to a statement or read from a row, the same on SQLite and PostgreSQL.
///
/// credlog stores only these five kinds: integers (booleans are 0 and 1 on both backends),
/// reals, text (times are ISO 8601 text, which sorts as time), bytes and NULL.
public enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob(Data)
}

/// A Swift value that can be bound to a statement.
public protocol SQLBindable: Sendable {
    var sqlValue: SQLValue { get }
}

/// A Swift value that can be read from a column.
public protocol SQLReadable {
    init?(sqlValue: SQLValue)
}

extension String: SQLBindable, SQLReadable {
    public var sqlValue: SQLValue { .text(self) }
    public init?(sqlValue: SQLValue) {
        guard case .text(let text) = sqlValue else { return nil }
        self = text
    }
}

extension Int64: SQLBindable, SQLReadable {
    public var sqlValue: SQLValue { .integer(self) }
    public init?(sqlValue: SQLValue) {
        switch sqlValue {
        case .integer(let value): self = value
        case .real(let value) where value == value.rounded(): self = Int64(value)
        default: return nil
        }
    }
}

extension Int: SQLBindable, SQLReadable {
    public var sqlValue: SQLValue { .integer(Int64(self)) }
    public init?(sqlValue: SQLValue) {
        guard let value = Int64(sqlValue: sqlValue) else { return nil }
        self = Int(value)
    }
}

extension Bool: SQLBindable, SQLReadable {
    public var sqlValue: SQLValue { .integer(self ? 1 : 0) }
    public init?(sqlValue: SQLValue) {
        guard let value = Int64(sqlValue: sqlValue) else { return nil }
        self = value != 0
    }
}

extension Double: SQLBindable, SQLReadable {
    public var sqlValue: SQLValue { .real(self) }
    public init?(sqlValue: SQLValue) {
        switch sqlValue {
        case .real(let value): self = value
        case .integer(let value): self = Double(value)
        default: return nil
        }
    }
}

extension Data: SQLBindable, SQLReadable {
    public var sqlValue: SQLValue { .blob(self) }
    public init?(sqlValue: SQLValue) {
        switch sqlValue {
        case .blob(let data): self = data
        case .text(let text): self = Data(text.utf8)
        default: return nil
        }
    }
}

extension SQLValue: SQLBindable {
    public var sqlValue: SQLValue { self }
}

/// The values bound to a statement's `?` placeholders, in order.
public struct SQLArguments: Sendable, ExpressibleByArrayLiteral {
    public var values: [SQLValue]

    public init(_ values: [SQLValue] = []) { self.values = values }

    public init(arrayLiteral elements: (any SQLBindable)?...) {
        values = elements.map { $0?.sqlValue ?? .null }
    }

    public static func + (lhs: SQLArguments, rhs: SQLArguments) -> SQLArguments {
        SQLArguments(lhs.values + rhs.values)
    }

    /// `column IN (?, …)` and its values (`1 = 0` for no value: PostgreSQL refuses an empty list).
    public static func membership(_ column: String, in values: [String]) -> (clause: String, arguments: SQLArguments) {
        (values.isEmpty ? "1 = 0" : "\(column) IN (\(placeholders(values.count)))", SQLArguments(values.map(\.sqlValue)))
    }

    /// `?, ?, ?` for `count` values (an `IN (…)` list).
    public static func placeholders(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ", ")
    }

    public mutating func append(_ value: (any SQLBindable)?) {
        values.append(value?.sqlValue ?? .null)
    }
}
