import GRDB
import Synchronization

/// A read model's record: a row of one of its tables, or of a query over them. Its properties are
/// its columns, in snake case (`projectId` is `project_id`), read by GRDB's record
/// coding on either backend (a PostgreSQL row reaches GRDB as an in-memory row).
public protocol ReadModelRecord: Codable, FetchableRecord, EncodableRecord {}

extension ReadModelRecord {
    public static var databaseColumnDecodingStrategy: DatabaseColumnDecodingStrategy { .custom(RecordColumns.property) }
    public static var databaseColumnEncodingStrategy: DatabaseColumnEncodingStrategy { .custom { RecordColumns.column($0.stringValue) } }
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

/// Column names and property names, each converted once (GRDB's own snake-case strategies
/// convert every name of every row).
private enum RecordColumns {
    private static let columns = Mutex<[String: String]>([:])
    private static let properties = Mutex<[String: Name]>([:])

    struct Name: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// `credentialExpiresAt` → `credential_expires_at`.
    static func column(_ property: String) -> String {
        if let known = columns.withLock({ $0[property] }) { return known }
        let column = property.reduce(into: "") { $0 += $1.isUppercase ? "_" + $1.lowercased() : String($1) }
        columns.withLock { $0[property] = column }
        return column
    }

    /// `connection_id` → `connectionId`.
    static func property(_ column: String) -> any CodingKey {
        if let known = properties.withLock({ $0[column] }) { return known }
        let words = column.split(separator: "_")
        let name = Name(stringValue: words.isEmpty ? column
            : String(words[0]) + words.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined())
        properties.withLock { $0[column] = name }
        return name
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
