import GRDB

/// A time is a column of ISO 8601 text (``Timestamp/iso8601``), read and written as a database
/// value: a read model's record decodes it straight from the column, not through `Codable`'s
/// single-value path. Text that is not a time does not decode (the record's read throws).
extension Timestamp: DatabaseValueConvertible, StatementColumnConvertible {
    public var databaseValue: DatabaseValue { iso8601.databaseValue }

    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> Timestamp? {
        guard case .string(let text) = dbValue.storage else { return nil }
        return Timestamp(iso8601: text)
    }

    public init?(sqliteStatement: SQLiteStatement, index: CInt) {
        guard let parsed = try? StatementColumns(statement: sqliteStatement).withText(at: Int(index), Timestamp.init(iso8601UTF8:))
        else { return nil }
        self = parsed
    }
}
