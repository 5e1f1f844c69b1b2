/// Rules for the identifiers people type: projects, members, flows, pieces.
public enum Identifier {
    /// 1 to 64 characters of letters, digits, `.`, `_`, `-`, `@`, starting with a letter or digit.
    static func check(_ text: String, what: String, maxLength: Int = 64) throws(DomainError) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.first else { throw DomainError.invalid("\(what) is empty") }
        guard scalars.count <= maxLength else { throw DomainError.invalid("\(what) is longer than \(maxLength) characters") }
        func allowed(_ scalar: Unicode.Scalar) -> Bool {
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || ".-_@".unicodeScalars.contains(scalar))
        }
        guard allowed(first), first != ".", first != "-", first != "_", first != "@", scalars.allSatisfy(allowed) else {
            throw DomainError.invalid("\(what) may contain only ASCII letters, digits, '.', '_', '-', '@', and starts with a letter or digit")
        }
        return text
    }

    public static func project(_ text: String) throws(DomainError) -> String { try check(text, what: "project id") }

    public static func member(_ text: String) throws(DomainError) -> String {
        let id = try check(text, what: "member id")
        guard id != "system", id != "engine" else { throw DomainError.invalid("'\(id)' is reserved and cannot be a member id") }
        return id
    }

    /// Who acted, as the log records it: a member's id, or `system` or `engine`.
    public static func actor(_ text: String, what: String = "actor id") throws(DomainError) -> String { try check(text, what: what) }

    public static func flow(_ text: String) throws(DomainError) -> String { try check(text, what: "flow id", maxLength: 128) }

    /// Pieces are lower-case: `gmail`, `hubspot`, `custom-api`.
    public static func piece(_ text: String) throws(DomainError) -> String {
        let id = try check(text, what: "piece")
        guard id == id.lowercased() else { throw DomainError.invalid("piece is lower-case, such as 'gmail'") }
        return id
    }
}

/// The rules for the tags a client attaches to a request (a correlation id, an idempotency
/// key): 1 to 128 visible ASCII characters. They are stored with every event and refusal, so a
/// 70 KB header must not become 70 KB rows.
public enum RequestTag {
    public static let maxLength = 128

    public static func validate(_ text: String, what: String) throws(DomainError) -> String {
        guard !text.isEmpty, text.utf8.count <= maxLength, text.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw DomainError.invalid("\(what) is 1 to \(maxLength) visible ASCII characters (letters, digits, punctuation; no spaces)")
        }
        return text
    }
}
