/// Decodes a `Decodable` value from a row, one column per coding key (a read model's record
/// type declares its columns once, in its `CodingKeys`).
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
        var allKeys: [Key] { row.columns.names.compactMap(Key.init(stringValue:)) }

        func contains(_ key: Key) -> Bool { row.columns.names.contains(key.stringValue) }

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
            guard let index = row.columns.names.firstIndex(of: key.stringValue) else { return .null }
            return row.values[index]
        }
    }
}
