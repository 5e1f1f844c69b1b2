import Foundation

/// An event type that knows how it is stored: its type name, schema version and JSON payload.
///
/// The type names and coding keys are the storage format: a shipped name is never
/// renamed; a new shape gets a new schema version and an upcaster from the old one.
public protocol StoredEvent: Sendable {
    /// The stored type name, such as `connection.created`.
    var typeName: String { get }
    /// Encodes the payload at the type's current schema version.
    func encode() throws -> EventData
    /// Decodes a stored payload, upcasting older schema versions first.
    static func decode(type: String, schemaVersion: Int, payload: Data) throws -> Self
}

/// Why a stored event could not be decoded.
public struct EventDecodingError: Error, CustomStringConvertible {
    public let type: String
    public let schemaVersion: Int
    public let reason: String
    public var description: String { "cannot decode event \(type) v\(schemaVersion): \(reason)" }
}

/// The JSON conventions of stored payloads: sorted keys, so equal events encode to equal bytes.
enum PayloadJSON {
    static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    static func decode<T: Decodable>(_ type: T.Type, from data: Data, event: String, version: Int) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw EventDecodingError(type: event, schemaVersion: version, reason: "payload does not match its schema")
        }
    }
}
