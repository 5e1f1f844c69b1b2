/// A record's columns and their values, in the order of its properties: what an `INSERT` or an
/// upsert binds. The inverse of ``SQLRow/decode(_:)``: `connectionId` goes to `connection_id`.
public struct SQLColumnValues: Sendable {
    public private(set) var names: [String] = []
    public private(set) var values = SQLArguments()

    /// Encodes `record`, whose properties must all be ``SQLBindable`` (optionals as `NULL`).
    public init(_ record: some Encodable) throws {
        let encoder = ColumnEncoder()
        try record.encode(to: encoder)
        names = encoder.columns.names
        values = encoder.columns.values
    }

    fileprivate init() {}

    fileprivate mutating func append(_ property: String, _ value: (any SQLBindable)?) {
        names.append(ColumnName.of(property))
        values.append(value)
    }

    /// `INSERT INTO table (…) VALUES (…)`; with `replacingOn`, an existing row with the same key
    /// column is updated instead (on both SQLite and PostgreSQL).
    public func insert(into table: String, replacingOn key: String? = nil) -> String {
        var sql = "INSERT INTO \(table) (\(names.joined(separator: ", "))) VALUES (\(SQLArguments.placeholders(names.count)))"
        if let key {
            sql += " ON CONFLICT (\(key)) DO UPDATE SET "
                + names.filter { $0 != key }.map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
        }
        return sql
    }
}

private final class ColumnEncoder: Encoder {
    var columns = SQLColumnValues()
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(Columns(encoder: self))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer { fatalError("a record encodes as named columns") }
    func singleValueContainer() -> any SingleValueEncodingContainer { fatalError("a record encodes as named columns") }

    struct Columns<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let encoder: ColumnEncoder
        var codingPath: [any CodingKey] { [] }

        mutating func encodeNil(forKey key: Key) { encoder.columns.append(key.stringValue, nil) }

        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            guard let bindable = value as? any SQLBindable else {
                throw EncodingError.invalidValue(value, .init(codingPath: [key], debugDescription: "a column holds one value"))
            }
            encoder.columns.append(key.stringValue, bindable)
        }

        // A missing optional is a NULL column, not a missing one (the protocol's defaults skip it).
        mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws {
            if let value { try encode(value, forKey: key) } else { encodeNil(forKey: key) }
        }
        mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws { encoder.columns.append(key.stringValue, value) }
        mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws { encoder.columns.append(key.stringValue, value) }
        mutating func encodeIfPresent(_ value: Int64?, forKey key: Key) throws { encoder.columns.append(key.stringValue, value) }
        mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws { encoder.columns.append(key.stringValue, value) }
        mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws { encoder.columns.append(key.stringValue, value) }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
            -> KeyedEncodingContainer<NestedKey> { fatalError("a column holds one value") }
        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer { fatalError("a column holds one value") }
        mutating func superEncoder() -> any Encoder { encoder }
        mutating func superEncoder(forKey key: Key) -> any Encoder { encoder }
    }
}
