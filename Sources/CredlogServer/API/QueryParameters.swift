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

    /// An ISO 8601 time parameter; a 400 when it is not one.
    func time(_ name: String) throws -> Timestamp? {
        guard let text = get(name) else { return nil }
        guard let time = Timestamp(iso8601: text) else {
            throw Problem.badRequest("'\(name)' is an ISO 8601 time, such as 2026-11-21T10:05:00Z")
        }
        return time
    }
}
