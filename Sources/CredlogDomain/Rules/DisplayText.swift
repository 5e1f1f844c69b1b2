import Foundation

/// The rules for free text that people see in lists, audit lines and reports: connection names,
/// reasons, search terms.
///
/// A limit in characters alone is not a limit: one letter followed by thousands of combining
/// marks is one character (a grapheme cluster). Each text is therefore bounded in characters,
/// Unicode scalars and UTF-8 bytes. Characters that make a line lie about itself are refused:
/// control characters, format characters (bidi overrides and isolates, zero-width spaces and
/// joiners, the byte-order mark), line and paragraph separators, and U+FFFD.
public struct DisplayText: Sendable {
    /// What the text is, for the error ("the name", "the reason").
    public var what: String
    public var maxCharacters: Int
    public var maxScalars: Int
    public var maxBytes: Int

    public init(what: String, maxCharacters: Int, maxScalars: Int, maxBytes: Int) {
        self.what = what
        self.maxCharacters = maxCharacters
        self.maxScalars = maxScalars
        self.maxBytes = maxBytes
    }

    /// A connection's display name.
    public static let connectionName = DisplayText(what: "the name", maxCharacters: 200, maxScalars: 400, maxBytes: 800)
    /// Why a connection was expired or revoked.
    public static let reason = DisplayText(what: "the reason", maxCharacters: 500, maxScalars: 1000, maxBytes: 2000)
    /// A search term of the connections list (matched against names: no longer than one).
    public static let searchTerm = DisplayText(what: "the search term", maxCharacters: 200, maxScalars: 400, maxBytes: 800)

    /// Trims surrounding white space and checks the rest: not empty, within every bound, and
    /// free of the characters named above.
    public func validate(_ raw: String) throws(DomainError) -> String {
        let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw DomainError.invalid("\(what) is empty") }
        // Bytes first: the cheap bound, so that counting characters never walks a huge input.
        guard text.utf8.count <= maxBytes, text.unicodeScalars.count <= maxScalars, text.count <= maxCharacters else {
            throw DomainError.invalid("\(what) is too long: at most \(maxCharacters) characters, \(maxScalars) Unicode code points "
                                      + "(combining marks count) and \(maxBytes) bytes of UTF-8")
        }
        if let refused = text.unicodeScalars.first(where: Self.isRefused) {
            throw DomainError.invalid("\(what) contains \(Self.describe(refused))")
        }
        return text
    }

    /// `text` made to pass ``validate(_:)``: refused characters become spaces, and it is cut to
    /// fit (for text credlog writes itself from what others said, such as a provider's reason).
    public func fitting(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        var bytes = 0
        for scalar in text.unicodeScalars {
            let replacement: Unicode.Scalar = Self.isRefused(scalar) ? " " : scalar
            let size = String(replacement).utf8.count
            guard scalars.count < maxScalars, bytes + size <= maxBytes else { break }
            scalars.append(replacement)
            bytes += size
        }
        let fitted = String(String(scalars).prefix(maxCharacters)).trimmingCharacters(in: .whitespacesAndNewlines)
        return fitted.isEmpty ? "(no reason given)" : fitted
    }

    /// Control and format characters, line and paragraph separators, U+FFFD.
    static func isRefused(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator: true
        default: scalar == "\u{FFFD}"
        }
    }

    private static func describe(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        switch scalar.properties.generalCategory {
        case .control: return "a control character (\(code), such as NUL or a line break)"
        case .format: return "an invisible formatting character (\(code): a bidi override, a zero-width space or joiner)"
        case .lineSeparator, .paragraphSeparator: return "a line or paragraph separator (\(code))"
        default: return "U+FFFD, the mark of undecodable bytes: it is not valid Unicode"
        }
    }
}
