import GRDB

/// Computes the hash chain that makes the log tamper-evident.
///
/// `hash(n) = BLAKE2b-256(key: chain key, hash(n-1) || canonical(row n))`, where the
/// canonical encoding length-prefixes every stored column, so no edit, deletion,
/// insertion or reordering of rows goes unnoticed by someone holding the key.
public struct ChainHasher: Sendable {
    /// The hash before the first event.
    public static let genesis = [UInt8](repeating: 0, count: 32)

    private let key: [UInt8]

    /// - Parameter key: the chain key, derived from the database's integrity root key.
    public init(key: [UInt8]) { self.key = key }

    /// The columns of one stored row, in their stored (text) form.
    public struct Row {
        public var position: Int64
        public var streamId: String
        public var streamVersion: Int64
        public var eventId: String
        public var eventType: String
        public var schemaVersion: Int64
        public var recordedAt: String
        public var actorId: String
        public var actorRole: String
        public var projectId: String
        public var correlationId: String
        public var causationId: String
        public var payload: String
    }

    /// The hash of a row read straight from SQLite (the columns in `Row`'s order, the hash last),
    /// hashing the stored bytes without building strings.
    /// A column that does not hold what credlog wrote (text in an integer column, NULL) hashes
    /// differently from any valid row, so it shows as a mismatch rather than a crash.
    func hash(previous: [UInt8], row: GRDB.Row) throws -> [UInt8] {
        var hash = KeyedHash(key: key)
        hash.update(previous)
        for column in 0..<13 {
            if column == 0 || column == 2 || column == 5, let value = Int64.fromDatabaseValue(row[column] as DatabaseValue) {
                hash.updateField(value)
                continue
            }
            let bytes = try row.withUnsafeData(atIndex: column) { data in data.map { [UInt8]($0) } ?? [] }
            bytes.withUnsafeBytes { hash.updateField($0) }
        }
        return hash.finalize()
    }

    /// The hash of `row`, chained to `previous`.
    public func hash(previous: [UInt8], row: Row) -> [UInt8] {
        var hash = KeyedHash(key: key)
        hash.update(previous)
        hash.updateField(row.position)
        hash.updateField(row.streamId)
        hash.updateField(row.streamVersion)
        hash.updateField(row.eventId)
        hash.updateField(row.eventType)
        hash.updateField(row.schemaVersion)
        hash.updateField(row.recordedAt)
        hash.updateField(row.actorId)
        hash.updateField(row.actorRole)
        hash.updateField(row.projectId)
        hash.updateField(row.correlationId)
        hash.updateField(row.causationId)
        hash.updateField(row.payload)
        return hash.finalize()
    }
}
