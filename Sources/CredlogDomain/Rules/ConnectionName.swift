/// The rules for a connection's display name (``DisplayText/connectionName``).
public enum ConnectionName {
    public static let maxLength = DisplayText.connectionName.maxCharacters

    /// Trims surrounding white space and checks the rest: not empty, at most 200 characters,
    /// 400 code points and 800 bytes, no control or invisible formatting characters, no U+FFFD.
    public static func validate(_ raw: String) throws(DomainError) -> String {
        try DisplayText.connectionName.validate(raw)
    }
}
