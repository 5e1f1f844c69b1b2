import Foundation

/// A stored payload's fields, read as the `Codable` shapes read them: a required field must be
/// there with the right type; an optional one may be missing or `null`; unknown fields are
/// ignored. Any mismatch is one error, ``PayloadMismatch``, which the caller turns into the
/// event's ``EventDecodingError``.
struct PayloadFields {
    let object: JSONObject

    init(_ payload: Data) throws(PayloadMismatch) {
        guard case .object(let object) = try? JSONValue.parse(payload) else { throw PayloadMismatch() }
        self.object = object
    }

    init(_ object: JSONObject) { self.object = object }

    func string(_ name: String) throws(PayloadMismatch) -> String {
        guard case .string(let text) = object[name] else { throw PayloadMismatch() }
        return text
    }

    func optionalString(_ name: String) throws(PayloadMismatch) -> String? {
        switch object[name] {
        case nil, .null?: return nil
        case .string(let text)?: return text
        default: throw PayloadMismatch()
        }
    }

    func optionalBool(_ name: String) throws(PayloadMismatch) -> Bool? {
        switch object[name] {
        case nil, .null?: return nil
        case .bool(let flag)?: return flag
        default: throw PayloadMismatch()
        }
    }

    /// An integer: as `JSONDecoder` reads one, digits, or a number with a fraction or exponent
    /// whose value is a whole number that fits (`-0.5e2` is -50).
    func int(_ name: String) throws(PayloadMismatch) -> Int {
        guard case .number(let text) = object[name] else { throw PayloadMismatch() }
        if let value = Int(text) { return value }
        guard let real = Double(text), let value = Int(exactly: real) else { throw PayloadMismatch() }
        return value
    }

    func bool(_ name: String) throws(PayloadMismatch) -> Bool {
        guard case .bool(let flag) = object[name] else { throw PayloadMismatch() }
        return flag
    }

    func fields(_ name: String) throws(PayloadMismatch) -> PayloadFields {
        guard case .object(let nested) = object[name] else { throw PayloadMismatch() }
        return PayloadFields(nested)
    }

    func value<Value: RawRepresentable<String>>(_ name: String, as type: Value.Type = Value.self) throws(PayloadMismatch) -> Value {
        guard let value = Value(rawValue: try string(name)) else { throw PayloadMismatch() }
        return value
    }
}

/// A payload that does not have its event's shape.
struct PayloadMismatch: Error {}
