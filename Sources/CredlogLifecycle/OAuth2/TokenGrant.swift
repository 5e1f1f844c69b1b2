import CredlogEvents
import Foundation

/// What a token endpoint answered (RFC 6749 §5.1), and the credential JSON it becomes.
public struct TokenGrant: Sendable, Decodable {
    public var accessToken: String
    public var refreshToken: String?
    /// Seconds the access token lives.
    public var expiresIn: Int?
    /// Space-separated scopes granted.
    public var scope: String?

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token", refreshToken = "refresh_token", expiresIn = "expires_in", scope
    }

    /// The credential fields (`accessToken`, `refreshToken`, `expiresAt`, `scopes`) as JSON.
    /// A grant without a new refresh token keeps `previousRefreshToken` (RFC 6749 §6).
    public func credentialJSON(now: Timestamp, previousRefreshToken: String? = nil) throws -> [UInt8] {
        var fields: [String: Any] = ["accessToken": accessToken]
        if let refresh = refreshToken ?? previousRefreshToken { fields["refreshToken"] = refresh }
        if let expiresIn { fields["expiresAt"] = (now + .seconds(expiresIn)).iso8601 }
        if let scopes = scope?.split(separator: " ").map(String.init), !scopes.isEmpty { fields["scopes"] = scopes }
        return [UInt8](try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]))
    }
}

/// The field of stored OAuth2 credentials that a refresh needs.
struct StoredOAuth2Credentials: Decodable {
    var refreshToken: String?
}
