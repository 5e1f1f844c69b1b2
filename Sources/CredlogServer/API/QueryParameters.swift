import CredlogEvents
import Hummingbird
import HummingbirdCore

extension FlatDictionary where Key == Substring, Value == Substring {
    /// A parameter's value.
    func get(_ name: String) -> String? { self[Substring(name)].map(String.init) }

    /// Every value of a parameter given once or more, each possibly a comma-separated list
    /// (`piece=gmail&piece=slack` or `piece=gmail,slack`); empty items are ignored.
    func list(_ name: String) -> [String] {
        self[values: Substring(name)].flatMap { $0.split(separator: ",").map(String.init) }
    }

    /// A query parameter naming one case of `T`; a 400 naming the choices when it is none.
    func enumValue<T: RawRepresentable & CaseIterable>(_ name: String, default value: T) throws -> T where T.RawValue == String {
        guard let text = get(name) else { return value }
        guard let parsed = T(rawValue: text) else {
            throw Problem.badRequest("'\(name)' is one of " + T.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return parsed
    }

    /// An integer query parameter within `range`; a 400 otherwise.
    func integer(_ name: String, default value: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let text = get(name) else { return value }
        guard let parsed = Int(text), range.contains(parsed) else {
            throw Problem.badRequest("'\(name)' is an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return parsed
    }

    /// A log position parameter (0 for the beginning of the log); a 400 when it is not one.
    func position(_ name: String) throws -> Int64 {
        guard let text = get(name) else { return 0 }
        return try Self.position(text, named: "'\(name)'")
    }

    /// `text` as a log position, 0 or more; a 400 naming `what` when it is not one.
    static func position(_ text: String, named what: String) throws -> Int64 {
        guard let parsed = Int64(text), parsed >= 0 else { throw Problem.badRequest("\(what) is a log position, an integer of 0 or more") }
        return parsed
    }

    /// An ISO 8601 time parameter; a 400 when it is not one.
    func time(_ name: String) throws -> Timestamp? {
        guard let text = get(name) else { return nil }
        guard let time = Timestamp(iso8601: text) else {
            throw Problem.badRequest("'\(name)' is an ISO 8601 time, such as 2026-11-21T10:05:00Z")
        }
        return time
    }
}
