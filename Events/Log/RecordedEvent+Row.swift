import Foundation

/// A row of `events` read by column position, in the table's order: SQLite's rows and every
/// backend's ``SQLRow`` both are, so that one decoder (``RecordedEvent/init(row:)``) reads events
/// everywhere. Each read throws on a value of the wrong kind (a row written by someone else).
public protocol EventRow {
    func int64(at column: Int) throws -> Int64
    func string(at column: Int) throws -> String
    func data(at column: Int) throws -> Data
    /// The text's UTF-8 bytes, lent to `body` without making a `String` (a replay reads every
    /// row's id, time and type this way).
    func withText<Result>(at column: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> Result) throws -> Result
    /// The bytes of a blob (or text) column.
    func bytes(at column: Int) throws -> [UInt8]
}

extension EventRow {
    public func withText<Result>(at column: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> Result) throws -> Result {
        var text = try string(at: column)
        return try text.withUTF8(body)
    }

    public func bytes(at column: Int) throws -> [UInt8] { [UInt8](try data(at: column)) }
}

extension RecordedEvent {
    /// The columns of `events`, in the order ``init(row:)`` reads them (the table's own order).
    public static let columns = """
        position, stream_id, stream_version, event_id, event_type, schema_version, recorded_at, \
        actor_id, actor_role, project_id, correlation_id, causation_id, payload, hash
        """

    /// Decodes a row of `SELECT \(columns) FROM events` (or `SELECT *`).
    /// The id, time and type are read from the row's bytes; a type credlog writes is one of
    /// ``knownTypes`` (no new string per row).
    public init(row: some EventRow) throws {
        let position = try row.int64(at: 0)
        guard let id = try row.withText(at: 3, UUID.init(hexBytes:)), let time = try row.withText(at: 6, Timestamp.init(iso8601UTF8:)),
              let actor = EventActor(id: try row.string(at: 7), roleName: try row.string(at: 8)),
              let schemaVersion = Int(exactly: try row.int64(at: 5)) else {
            throw CorruptEventRow(position: position)
        }
        let type = try row.withText(at: 4) { bytes in Self.knownType(bytes) ?? String(decoding: bytes, as: UTF8.self) }
        self.init(position: position, stream: StreamID(try row.string(at: 1)), streamVersion: try row.int64(at: 2), eventId: id,
                  type: type, schemaVersion: schemaVersion, recordedAt: time, actor: actor,
                  projectId: try row.string(at: 9), correlationId: try row.string(at: 10), causationId: try row.string(at: 11),
                  payload: try row.data(at: 12), hash: try row.bytes(at: 13))
    }

    /// The event types credlog writes.
    static let knownTypes: [String] = [
        ConnectionEvent.TypeName.created, ConnectionEvent.TypeName.reconnected, ConnectionEvent.TypeName.renamed,
        ConnectionEvent.TypeName.expired, ConnectionEvent.TypeName.revoked, ConnectionEvent.TypeName.deleted,
        ConnectionEvent.TypeName.attachedToFlow, ConnectionEvent.TypeName.detachedFromFlow, ConnectionEvent.TypeName.tokenRefreshed,
        ConnectionEvent.TypeName.credentialsResealed, ConnectionEvent.TypeName.expiryWarned,
        ConnectionEvent.TypeName.checked, MembershipEvent.TypeName.memberAdded, MembershipEvent.TypeName.roleChanged,
        MembershipEvent.TypeName.memberRemoved, MembershipEvent.TypeName.pieceRegistered, MembershipEvent.TypeName.webhookAdded,
        MembershipEvent.TypeName.webhookRemoved, MembershipEvent.TypeName.tokenIssued, MembershipEvent.TypeName.tokenRevoked,
        MembershipEvent.TypeName.tokenRotated,
    ]

    /// The known type spelled by `bytes`, if any.
    private static func knownType(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        for var name in knownTypes where name.utf8.count == bytes.count {
            if name.withUTF8({ $0.elementsEqual(bytes) }) { return name }
        }
        return nil
    }
}

extension SQLRow: EventRow {
    public func int64(at column: Int) throws -> Int64 { try self[column] }
    public func string(at column: Int) throws -> String { try self[column] }
    public func data(at column: Int) throws -> Data { try self[column] }
}

extension UUID {
    /// Parses the UTF-8 bytes of the canonical 8-4-4-4-12 hexadecimal form without going
    /// through `sscanf`.
    init?(hexBytes bytes: UnsafeBufferPointer<UInt8>) {
        guard bytes.count == 36, bytes[8] == 45, bytes[13] == 45, bytes[18] == 45, bytes[23] == 45 else { return nil }
        var parsed: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let complete = withUnsafeMutableBytes(of: &parsed) { out -> Bool in
            var index = 0
            var high: UInt8?
            for byte in bytes where byte != 45 {
                let value: UInt8
                switch byte {
                case 48...57: value = byte - 48
                case 97...102: value = byte - 87
                case 65...70: value = byte - 55
                default: return false
                }
                if let first = high {
                    guard index < 16 else { return false }
                    out[index] = first << 4 | value
                    index += 1
                    high = nil
                } else {
                    high = value
                }
            }
            return index == 16
        }
        guard complete else { return nil }
        self.init(uuid: parsed)
    }
}

/// A row of the `events` table whose columns cannot be read back (edited by hand).
public struct CorruptEventRow: Error, CustomStringConvertible {
    public let position: Int64
    public var description: String { "the event at position \(position) is corrupt: run `credlog verify`" }
}
