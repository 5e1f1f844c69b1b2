import CredlogEvents
import Foundation

/// Credentials checked against their auth type and put in canonical form, ready to seal.
///
/// `canonical` is the sorted-key JSON of the fields; the caller seals it and the vault wipes it.
public struct CheckedCredentials: Sendable {
    public var authType: AuthType
    public var canonical: [UInt8]
    /// OAuth2 `expiresAt` or an API key's, normalised to ISO 8601 UTC.
    public var expiresAt: String?
    /// An OAuth2 credential with a refresh token: credlog can renew it.
    public var refreshable: Bool?
}

/// The field rules of each auth type.
///
/// - API key: `{"apiKey", "expiresAt"?}`
/// - OAuth2: `{"accessToken", "refreshToken"?, "expiresAt"?, "scopes"?}`
/// - basic: `{"username", "password"}`
/// - custom: any string fields, at least one
///
/// Error messages name fields, never values.
public enum CredentialRules {
    /// Credentials larger than this are refused.
    public static let maxBytes = 64 * 1024

    public static func check(_ json: [UInt8], as authType: AuthType) throws(DomainError) -> CheckedCredentials {
        guard json.count <= maxBytes else { throw DomainError.invalid("credentials are larger than \(maxBytes) bytes") }
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(json), options: [])
        } catch {
            throw DomainError.invalid("credentials are not valid JSON (expected a JSON object)")
        }
        guard let fields = parsed as? [String: Any] else {
            throw DomainError.invalid("credentials must be a JSON object")
        }
        var canonical: [String: Any] = [:]
        var expiresAt: String?
        switch authType {
        case .apiKey:
            try only(fields, allowed: ["apiKey", "expiresAt"], authType)
            canonical["apiKey"] = try requiredString(fields, "apiKey", authType)
            expiresAt = try expiry(fields)
            if let expiresAt { canonical["expiresAt"] = expiresAt }
        case .basic:
            try only(fields, allowed: ["username", "password"], authType)
            canonical["username"] = try requiredString(fields, "username", authType)
            canonical["password"] = try requiredString(fields, "password", authType)
        case .oauth2:
            try only(fields, allowed: ["accessToken", "refreshToken", "expiresAt", "scopes"], authType)
            canonical["accessToken"] = try requiredString(fields, "accessToken", authType)
            if let refresh = fields["refreshToken"] {
                guard let token = refresh as? String, !token.isEmpty else {
                    throw DomainError.invalid("'refreshToken' must be a non-empty string")
                }
                canonical["refreshToken"] = token
            }
            expiresAt = try expiry(fields)
            if let expiresAt { canonical["expiresAt"] = expiresAt }
            if let scopes = fields["scopes"] {
                guard let list = scopes as? [Any], let strings = list as? [String], strings.allSatisfy({ !$0.isEmpty }) else {
                    throw DomainError.invalid("'scopes' must be an array of non-empty strings")
                }
                canonical["scopes"] = strings
            }
        case .custom:
            guard !fields.isEmpty else { throw DomainError.invalid("custom credentials need at least one field") }
            for (name, value) in fields {
                guard !name.isEmpty else { throw DomainError.invalid("custom credential field names must not be empty") }
                guard value is String else {
                    throw DomainError.invalid("custom credential fields must all be strings; one is not")
                }
                canonical[name] = value
            }
        }
        do {
            let bytes = try JSONSerialization.data(withJSONObject: canonical, options: [.sortedKeys, .withoutEscapingSlashes])
            return CheckedCredentials(authType: authType, canonical: [UInt8](bytes), expiresAt: expiresAt,
                                      refreshable: authType == .oauth2 ? canonical["refreshToken"] != nil : nil)
        } catch {
            throw DomainError.invalid("credentials cannot be encoded")
        }
    }

    /// The optional `expiresAt` field, normalised.
    private static func expiry(_ fields: [String: Any]) throws(DomainError) -> String? {
        guard let expiry = fields["expiresAt"] else { return nil }
        guard let text = expiry as? String, let time = Timestamp(iso8601: text) else {
            throw DomainError.invalid("'expiresAt' must be an ISO 8601 time, such as 2026-12-01T10:00:00Z")
        }
        return time.iso8601
    }

    private static func only(_ fields: [String: Any], allowed: Set<String>, _ authType: AuthType) throws(DomainError) {
        if Set(fields.keys).subtracting(allowed).isEmpty { return }
        let expected = allowed.sorted().map { "'\($0)'" }.joined(separator: ", ")
        throw DomainError.invalid("\(authType.rawValue) credentials take only the fields \(expected); there are others")
    }

    private static func requiredString(_ fields: [String: Any], _ name: String, _ authType: AuthType) throws(DomainError) -> String {
        guard let value = fields[name] else {
            throw DomainError.invalid("\(authType.rawValue) credentials need the field '\(name)'")
        }
        guard let text = value as? String, !text.isEmpty else {
            throw DomainError.invalid("'\(name)' must be a non-empty string")
        }
        return text
    }
}
