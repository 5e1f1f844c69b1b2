import GRDB
import GRDBSQLite

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

    /// The hash of the statement's current row (columns in chain order, the hash last), chained
    /// to `previous`, reading each column in place. `prefix` is a hash already keyed with
    /// ``key``. A column holding the wrong type (tampering) is hashed as its bytes, so it
    /// cannot match.
    func hash(previous: UnsafeRawBufferPointer, statement: SQLiteStatement, prefix: borrowing KeyedHash) -> [UInt8] {
        var hash = KeyedHash(continuing: prefix)
        hash.update(previous)
        for column: Int32 in 0..<13 {
            if column == 0 || column == 2 || column == 5, sqlite3_column_type(statement, column) == SQLITE_INTEGER {
                hash.updateField(sqlite3_column_int64(statement, column))
                continue
            }
            let bytes = sqlite3_column_blob(statement, column)
            hash.updateField(UnsafeRawBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(statement, column))))
        }
        return hash.finalize()
    }

    /// A hash keyed for the chain, to continue from with ``hash(previous:statement:prefix:)``.
    func keyedPrefix() -> KeyedHash { KeyedHash(key: key) }

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
