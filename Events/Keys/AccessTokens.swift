import Foundation

/// A bearer token of the HTTP API, as stored: who it speaks for, never its secret.
public struct AccessToken: Sendable, Equatable, Codable {
    /// A member's token acts as that member (with their role in the project at each request);
    /// an engine token acts as the flow engine, the only reader of plaintext credentials.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case member, engine
    }

    /// The public part of the token (`tok_…`), safe to log and to show.
    public var tokenId: String
    public var kind: Kind
    /// The member, for a member token.
    public var memberId: String?
    /// The one project the token may act on; everything else looks absent to it.
    public var projectId: String
    public var createdAt: String
    public var revokedAt: String?
}

/// Issues, checks and revokes access tokens. A token reads `clt_<token id>_<secret>`; only a
/// BLAKE2b hash of the secret is stored, so a copy of the database yields no usable token.
public enum AccessTokens {
    private static let prefix = "clt_"
    /// Domain separation for the secret's hash.
    private static let hashKey = Array("credlog access token v1".utf8)

    /// Makes a token and stores its hash; the returned text is shown once and never again.
    public static func issue(kind: AccessToken.Kind, memberId: String?, projectId: String, now: Timestamp,
                             _ db: any SQLSession) throws -> (token: String, record: AccessToken) {
        precondition((kind == .member) == (memberId != nil), "a member token names its member; an engine token none")
        let tokenId = "tok_" + Sodium.randomText(16)
        let secret = Sodium.randomText(32)
        let record = AccessToken(tokenId: tokenId, kind: kind, memberId: memberId, projectId: projectId,
                                 createdAt: now.iso8601, revokedAt: nil)
        try db.execute(sql: """
            INSERT INTO access_tokens (token_id, secret_hash, kind, member_id, project_id, created_at)
            VALUES (?, ?, ?, ?, ?, ?)
            """, arguments: [tokenId, Data(hash(secret)), kind.rawValue, memberId, projectId, record.createdAt])
        return (prefix + tokenId + "_" + secret, record)
    }

    /// The live token that `presented` is, or `nil` when it is malformed, unknown, wrong or revoked.
    /// The secret is compared in constant time.
    public static func verify(_ presented: String, _ db: any SQLSession) throws -> AccessToken? {
        guard presented.hasPrefix(prefix) else { return nil }
        let parts = presented.dropFirst(prefix.count).split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "tok" else { return nil }
        let tokenId = "tok_" + parts[1]
        guard let row = try db.fetchOne(sql: "SELECT * FROM access_tokens WHERE token_id = ?", arguments: [tokenId]),
              Sodium.constantTimeEqual(hash(String(parts[2])), [UInt8](row["secret_hash"] as Data)) else { return nil }
        let token = record(row)
        return token.revokedAt == nil ? token : nil
    }

    /// Whether the token is still live (not revoked), for sessions opened with it.
    public static func isLive(_ tokenId: String, _ db: any SQLSession) throws -> Bool {
        try db.fetchValue(sql: "SELECT revoked_at IS NULL FROM access_tokens WHERE token_id = ?", arguments: [tokenId]) ?? false
    }

    /// Revokes a token; false when there is no such live token.
    public static func revoke(_ tokenId: String, now: Timestamp, _ db: any SQLSession) throws -> Bool {
        try db.changes(sql: "UPDATE access_tokens SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL",
                       arguments: [now.iso8601, tokenId]) == 1
    }

    /// Every token, live or revoked, oldest first.
    public static func all(_ db: any SQLSession) throws -> [AccessToken] {
        try db.fetchAll(sql: "SELECT * FROM access_tokens ORDER BY created_at, token_id").map(record)
    }

    private static func record(_ row: SQLRow) -> AccessToken {
        AccessToken(tokenId: row["token_id"], kind: AccessToken.Kind(rawValue: row["kind"]) ?? .member,
                    memberId: row["member_id"], projectId: row["project_id"], createdAt: row["created_at"],
                    revokedAt: row["revoked_at"])
    }

    private static func hash(_ secret: String) -> [UInt8] {
        KeyedHash.digest(Array(secret.utf8), key: hashKey)
    }
}
