import CredlogEvents
import Foundation

/// What a token endpoint answered (RFC 6749 §5.1), and the credential JSON it becomes.
public struct TokenGrant: Sendable, Decodable {
    public var accessToken: String
    public var refreshToken: String?
    /// Seconds the access token lives, as the provider said it, clamped to
    /// ``lifetimeBounds`` (a provider's number must never trap or make a token due at once).
    public var expiresIn: Int?
    /// Space-separated scopes granted.
    public var scope: String?

    /// The shortest and longest lifetimes credlog records: a minute (shorter would make every read
    /// refresh) to ten years.
    public static let lifetimeBounds = 60...(10 * 365 * 86_400)

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token", refreshToken = "refresh_token", expiresIn = "expires_in", scope
    }

    public init(accessToken: String, refreshToken: String? = nil, expiresIn: Int? = nil, scope: String? = nil) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.expiresIn = expiresIn.map(Self.clampLifetime)
        self.scope = scope
    }

    /// Reads `expires_in` as an integer, a number or a string of digits (providers differ),
    /// clamped; an unusable one is ignored, as if absent.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        accessToken = try container.decode(String.self, forKey: .accessToken)
        refreshToken = try? container.decodeIfPresent(String.self, forKey: .refreshToken)
        scope = try? container.decodeIfPresent(String.self, forKey: .scope)
        if let seconds = try? container.decodeIfPresent(Double.self, forKey: .expiresIn) {
            expiresIn = seconds.isFinite ? Self.clampLifetime(seconds) : nil
        } else if let text = try? container.decodeIfPresent(String.self, forKey: .expiresIn), let seconds = Double(text.prefix(32)) {
            expiresIn = seconds.isFinite ? Self.clampLifetime(seconds) : nil
        } else {
            expiresIn = nil
        }
    }

    static func clampLifetime(_ seconds: Int) -> Int {
        min(max(seconds, lifetimeBounds.lowerBound), lifetimeBounds.upperBound)
    }

    static func clampLifetime(_ seconds: Double) -> Int {
        Int(min(max(seconds, Double(lifetimeBounds.lowerBound)), Double(lifetimeBounds.upperBound)))
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
