import Foundation

/// A row of `events` read by column position, in the table's order: SQLite's rows and every
/// backend's ``SQLRow`` both are, so that one decoder (``RecordedEvent/init(row:)``) reads events
/// everywhere. Each read throws on a value of the wrong kind (a row written by someone else).
public protocol EventRow {
    func int64(at column: Int) throws -> Int64
    func string(at column: Int) throws -> String
    func data(at column: Int) throws -> Data
}

extension RecordedEvent {
    /// The columns of `events`, in the order ``init(row:)`` reads them (the table's own order).
    public static let columns = """
        position, stream_id, stream_version, event_id, event_type, schema_version, recorded_at, \
        actor_id, actor_role, project_id, correlation_id, causation_id, payload, hash
        """

    /// Decodes a row of `SELECT \(columns) FROM events` (or `SELECT *`).
    public init(row: some EventRow) throws {
        let position = try row.int64(at: 0)
        guard let id = UUID(hexString: try row.string(at: 3)), let time = Timestamp(iso8601: try row.string(at: 6)),
              let actor = EventActor(id: try row.string(at: 7), roleName: try row.string(at: 8)),
              let schemaVersion = Int(exactly: try row.int64(at: 5)) else {
            throw CorruptEventRow(position: position)
        }
        self.init(position: position, stream: StreamID(try row.string(at: 1)), streamVersion: try row.int64(at: 2), eventId: id,
                  type: try row.string(at: 4), schemaVersion: schemaVersion, recordedAt: time, actor: actor,
                  projectId: try row.string(at: 9), correlationId: try row.string(at: 10), causationId: try row.string(at: 11),
                  payload: try row.data(at: 12), hash: [UInt8](try row.data(at: 13)))
    }
}

extension SQLRow: EventRow {
    public func int64(at column: Int) throws -> Int64 { try self[column] }
    public func string(at column: Int) throws -> String { try self[column] }
    public func data(at column: Int) throws -> Data { try self[column] }
}

extension UUID {
    /// Parses the canonical 8-4-4-4-12 hexadecimal form without going through `sscanf`.
    init?(hexString text: String) {
        var text = text
        let parsed: uuid_t? = text.withUTF8 { bytes -> uuid_t? in
            guard bytes.count == 36, bytes[8] == 45, bytes[13] == 45, bytes[18] == 45, bytes[23] == 45 else { return nil }
            var out = [UInt8](repeating: 0, count: 16)
            var index = 0
            var high: UInt8?
            for byte in bytes where byte != 45 {
                let value: UInt8
                switch byte {
                case 48...57: value = byte - 48
                case 97...102: value = byte - 87
                case 65...70: value = byte - 55
                default: return nil
                }
                if let first = high {
                    guard index < 16 else { return nil }
                    out[index] = first << 4 | value
                    index += 1
                    high = nil
                } else {
                    high = value
                }
            }
            guard index == 16 else { return nil }
            return (out[0], out[1], out[2], out[3], out[4], out[5], out[6], out[7],
                    out[8], out[9], out[10], out[11], out[12], out[13], out[14], out[15])
        }
        guard let parsed else { return nil }
        self.init(uuid: parsed)
    }
}

/// A row of the `events` table whose columns cannot be read back (edited by hand).
public struct CorruptEventRow: Error, CustomStringConvertible {
    public let position: Int64
    public var description: String { "the event at position \(position) is corrupt: run `credlog verify`" }
}
