import GRDB

/// A read model's record: a row of one of its tables, or of a query over them. Its properties are
/// its columns, in snake case (`projectId` is `project_id`), read and written by GRDB's record
/// coding on either backend (a PostgreSQL row reaches GRDB as an in-memory row).
public protocol ReadModelRecord: Codable, FetchableRecord, EncodableRecord {}

extension ReadModelRecord {
    public static var databaseColumnDecodingStrategy: DatabaseColumnDecodingStrategy { .convertFromSnakeCase }
    public static var databaseColumnEncodingStrategy: DatabaseColumnEncodingStrategy { .convertToSnakeCase }

    /// Inserts the record into `table`; with `replacingOn`, a row with the same value in that
    /// column is updated instead (`ON CONFLICT … DO UPDATE`, on both backends).
    public func insert(into table: String, replacingOn key: String? = nil, _ db: any SQLSession) throws {
        let columns = try databaseDictionary.sorted { $0.key < $1.key }
        var sql = "INSERT INTO \(table) (\(columns.map(\.key).joined(separator: ", "))) VALUES (\(SQLArguments.placeholders(columns.count)))"
        if let key {
            sql += " ON CONFLICT (\(key)) DO UPDATE SET "
                + columns.map(\.key).filter { $0 != key }.map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
        }
        try db.execute(sql: sql, arguments: SQLArguments(columns.map(\.value.sqlValue)))
    }
}

extension SQLRow {
    /// The row as `Record`, each property read from its column.
    public func decode<Record: ReadModelRecord>(_ type: Record.Type = Record.self) throws -> Record {
        let cells = zip(columns.names, values.map(\.databaseValue))
        return try Record(row: Row(Dictionary(cells) { first, _ in first }))
    }
}

extension SQLSession {
    /// Every row, decoded as `Record`.
    public func fetchAll<Record: ReadModelRecord>(_ type: Record.Type, sql: String, arguments: SQLArguments = []) throws -> [Record] {
        try fetchAll(sql: sql, arguments: arguments).map { try $0.decode(Record.self) }
    }
}

extension SQLValue {
    var databaseValue: DatabaseValue {
        switch self {
        case .null: .null
        case .integer(let integer): integer.databaseValue
        case .real(let real): real.databaseValue
        case .text(let text): text.databaseValue
        case .blob(let data): data.databaseValue
        }
    }
}
