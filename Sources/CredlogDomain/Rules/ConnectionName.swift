/// The rules for a connection's display name.
public enum ConnectionName {
    public static let maxLength = 200

    /// Trims surrounding white space and checks the rest: not empty, at most 200
    /// characters, no control characters (NUL included), no U+FFFD left by invalid UTF-8.
    public static func validate(_ raw: String) throws(DomainError) -> String {
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty else { throw DomainError.invalid("the name is empty") }
        guard name.count <= maxLength else {
            throw DomainError.invalid("the name has \(name.count) characters; at most \(maxLength) are allowed")
        }
        if name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw DomainError.invalid("the name contains a control character (such as NUL or a line break)")
        }
        if name.unicodeScalars.contains("\u{FFFD}") {
            throw DomainError.invalid("the name is not valid Unicode (it contains U+FFFD, the mark of undecodable bytes)")
        }
        return name
    }
}

import Foundation
