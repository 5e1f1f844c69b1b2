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

/// A token minted and not yet stored: the row that goes into `access_tokens` in the same
/// transaction as its `project.token-issued` event (``AppendRequest/newAccessTokens``).
public struct NewAccessToken: Sendable, Equatable {
    public var record: AccessToken
    /// The keyed hash of the secret.
    public var secretHash: [UInt8]
}

/// Mints, checks and revokes access tokens. A token reads `clt_<token id>_<secret>`; only a
/// BLAKE2b hash of the secret is stored, keyed with ``KeyRing/accessTokenKey`` (derived from the
/// master key): a copy of the database yields no usable token, and a row written into the table
/// by someone without the master key matches no secret.
///
/// Issuing and revoking are events of the project's stream (``MembershipEvent/tokenIssued(_:)``,
/// ``MembershipEvent/tokenRevoked(_:)``), so the hash chain records who got a token and when.
public enum AccessTokens {
    private static let prefix = "clt_"

    /// A new token: the text shown once, and the row to store with its event.
    public static func mint(kind: AccessToken.Kind, memberId: String?, projectId: String, now: Timestamp,
                            key: [UInt8]) -> (token: String, new: NewAccessToken) {
        let tokenId = "tok_" + Sodium.randomText(16)
        let secret = Sodium.randomText(32)
        let record = AccessToken(tokenId: tokenId, kind: kind, memberId: memberId, projectId: projectId,
                                 createdAt: now.iso8601, revokedAt: nil)
        return (prefix + tokenId + "_" + secret, NewAccessToken(record: record, secretHash: hash(secret, key: key)))
    }

    /// Stores a minted token's row (inside the append of its event).
    static func store(_ token: NewAccessToken, _ db: any SQLSession) throws {
        let record = token.record
        try db.execute(sql: """
            INSERT INTO access_tokens (token_id, secret_hash, kind, member_id, project_id, created_at)
            VALUES (?, ?, ?, ?, ?, ?)
            """, arguments: [record.tokenId, Data(token.secretHash), record.kind.rawValue, record.memberId, record.projectId,
                             record.createdAt])
    }

    /// The live token that `presented` is, or `nil` when it is malformed, unknown, wrong or revoked.
    /// The secret is compared in constant time.
    public static func verify(_ presented: String, key: [UInt8], _ db: any SQLSession) throws -> AccessToken? {
        guard presented.utf8.count <= 128, presented.hasPrefix(prefix) else { return nil }
        let parts = presented.dropFirst(prefix.count).split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "tok" else { return nil }
        let tokenId = "tok_" + parts[1]
        guard let row = try db.fetchOne(sql: "SELECT * FROM access_tokens WHERE token_id = ?", arguments: [tokenId]),
              Sodium.constantTimeEqual(hash(String(parts[2]), key: key), [UInt8](try row["secret_hash"] as Data)) else { return nil }
        let token = try record(row)
        return token.revokedAt == nil ? token : nil
    }

    /// A token's row, live or revoked.
    public static func find(_ tokenId: String, _ db: any SQLSession) throws -> AccessToken? {
        try db.fetchOne(sql: "SELECT * FROM access_tokens WHERE token_id = ?", arguments: [tokenId]).map { try record($0) }
    }

    /// Whether the token is still live (not revoked), for sessions opened with it.
    public static func isLive(_ tokenId: String, _ db: any SQLSession) throws -> Bool {
        try db.fetchValue(sql: "SELECT revoked_at IS NULL FROM access_tokens WHERE token_id = ?", arguments: [tokenId]) ?? false
    }

    /// Every token, live or revoked, oldest first.
    public static func all(_ db: any SQLSession) throws -> [AccessToken] {
        try db.fetchAll(sql: "SELECT * FROM access_tokens ORDER BY created_at, token_id").map { try record($0) }
    }

    private static func record(_ row: SQLRow) throws -> AccessToken {
        guard let kind = AccessToken.Kind(rawValue: try row["kind"]) else { throw UnexpectedRow(column: "kind", expected: "member or engine") }
        return AccessToken(tokenId: try row["token_id"], kind: kind, memberId: try row["member_id"], projectId: try row["project_id"],
                           createdAt: try row["created_at"], revokedAt: try row["revoked_at"])
    }

    private static func hash(_ secret: String, key: [UInt8]) -> [UInt8] {
        KeyedHash.digest(Array(secret.utf8), key: key)
    }

    /// Marks a token revoked in the transaction that appends its `project.token-revoked` event.
    public struct Revoker: AppendObserver {
        public init() {}

        public func didAppend(_ events: [RecordedEvent], in db: any SQLSession) throws {
            for event in events where event.type == MembershipEvent.TypeName.tokenRevoked {
                guard case .tokenRevoked(let revoked) = try event.decode(as: MembershipEvent.self) else { continue }
                try db.execute(sql: "UPDATE access_tokens SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL",
                               arguments: [event.recordedAt.iso8601, revoked.tokenId])
            }
        }
    }
}
