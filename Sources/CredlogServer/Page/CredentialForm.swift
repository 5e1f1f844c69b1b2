import CredlogEvents
import Foundation

/// The credential fields of the New connection and Reconnect modals, by auth type, turned into
/// the credentials JSON the rules check.
enum CredentialForm {
    /// API key: `apiKey`, optional `expiresAt`; OAuth2: `accessToken`, optional `refreshToken` and `expiresAt`; basic:
    /// `username`, `password`; custom: `fields`, one `name=value` per line.
    static func credentials(from form: FormData, authType: AuthType) throws -> [UInt8] {
        var fields: [String: JSONValue] = [:]
        func take(_ name: String) { if let value = form.nonEmpty(name) { fields[name] = .string(value) } }
        func takeExpiry() {
            if let expiry = form.nonEmpty("expiresAt") { fields["expiresAt"] = .string(Timestamp(formInput: expiry)?.iso8601 ?? expiry) }
        }
        switch authType {
        case .apiKey: take("apiKey"); takeExpiry()
        case .basic: take("username"); take("password")
        case .oauth2: take("accessToken"); take("refreshToken"); takeExpiry()
        case .custom:
            for line in (form["fields"] ?? "").split(whereSeparator: \.isNewline) {
                let parts = line.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { continue }
                fields[parts[0].trimmingCharacters(in: .whitespaces)] = .string(String(parts[1]).trimmingCharacters(in: .whitespaces))
            }
        }
        return try JSONValue.object(fields).bytes
    }
}
