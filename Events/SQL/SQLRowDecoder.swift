import Synchronization

/// Decodes a `Decodable` value from a row, one column per property: `connectionId` is read from
/// the column `connection_id` (a read model's record declares its columns once, as its properties).
extension SQLRow {
    public func decode<Value: Decodable>(_ type: Value.Type = Value.self) throws -> Value {
        try Value(from: RowDecoder(row: self))
    }
}

extension SQLSession {
    /// Every row, decoded as `Value`.
    public func fetchAll<Value: Decodable>(_ type: Value.Type, sql: String, arguments: SQLArguments = []) throws -> [Value] {
        try fetchAll(sql: sql, arguments: arguments).map { try $0.decode(Value.self) }
    }
}

private struct RowDecoder: Decoder {
    let row: SQLRow
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(Columns(row: row))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        throw DecodingError.typeMismatch(SQLRow.self, .init(codingPath: [], debugDescription: "a row decodes by column name"))
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        throw DecodingError.typeMismatch(SQLRow.self, .init(codingPath: [], debugDescription: "a row decodes by column name"))
    }

    struct Columns<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let row: SQLRow
        var codingPath: [any CodingKey] { [] }
        var allKeys: [Key] { row.columns.names.compactMap { name in Key(stringValue: ColumnName.property(name)) } }

        func contains(_ key: Key) -> Bool { row.columns.names.contains(ColumnName.of(key.stringValue)) }

        func decodeNil(forKey key: Key) throws -> Bool { value(key) == .null }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            guard let readable = T.self as? any SQLReadable.Type, let decoded = readable.init(sqlValue: value(key)) as? T else {
                throw DecodingError.typeMismatch(T.self, .init(codingPath: [key], debugDescription: "column \(key.stringValue)"))
            }
            return decoded
        }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
            -> KeyedDecodingContainer<NestedKey> {
            throw DecodingError.typeMismatch(type, .init(codingPath: [key], debugDescription: "a column holds one value"))
        }

        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            throw DecodingError.typeMismatch(SQLRow.self, .init(codingPath: [key], debugDescription: "a column holds one value"))
        }

        func superDecoder() throws -> any Decoder { RowDecoder(row: row) }
        func superDecoder(forKey key: Key) throws -> any Decoder { RowDecoder(row: row) }

        private func value(_ key: Key) -> SQLValue {
            guard let index = try? row.columns.index(of: ColumnName.of(key.stringValue)) else { return .null }
            return row.values[index]
        }
    }
}

/// The column of a property: its name in snake case (`credentialExpiresAt` → `credential_expires_at`).
enum ColumnName {
    /// Properties are few and repeat on every row: each is converted once.
    private static let known = Mutex<[String: String]>([:])

    static func of(_ property: String) -> String {
        if let column = known.withLock({ $0[property] }) { return column }
        var column = ""
        for character in property {
            if character.isUppercase { column += "_" + character.lowercased() } else { column.append(character) }
        }
        known.withLock { $0[property] = column }
        return column
    }

    /// The property of a column: `connection_id` → `connectionId`.
    static func property(_ column: String) -> String {
        let words = column.split(separator: "_")
        guard let first = words.first else { return column }
        return String(first) + words.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }
}
