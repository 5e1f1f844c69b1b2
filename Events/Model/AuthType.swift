/// How a connection authenticates against its service; fixes the credential fields it takes.
public enum AuthType: String, Sendable, Codable, CaseIterable {
    case apiKey = "api-key"
    case oauth2 = "oauth2"
    case basic = "basic"
    case custom = "custom"
}
