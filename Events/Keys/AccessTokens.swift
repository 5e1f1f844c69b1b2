import Foundation

/// A bearer token of the HTTP API, as stored: who it speaks for, what it may do, until when;
/// never its secret.
public struct AccessToken: Sendable, Equatable, Codable {
    /// A member's token acts as that member (with their role in the project at each request);
    /// an engine token acts as the flow engine, the only reader of plaintext credentials.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case member, engine
    }

    /// What a token may do. `read` is for reports and dashboards: reads and the feed, never a
    /// write and never plaintext credentials; each refused attempt is audited.
    public enum Scope: String, Sendable, Codable, CaseIterable {
        case full, read
    }

    /// The public part of the token (`tok_…`), safe to log and to show.
    public var tokenId: String
    public var kind: Kind
    /// The member, for a member token.
    public var memberId: String?
    /// The one project the token may act on; everything else looks absent to it.
    public var projectId: String
    public var scope: Scope = .full
    public var createdAt: String
    /// After this moment the token is refused (401, saying so); `nil`: it does not expire.
    public var expiresAt: String?
    public var revokedAt: String?
    /// When it was last presented, to the minute (``AccessTokens/lastUseGranularity``).
    public var lastUsedAt: String?
    /// After a rotation, the former secret is still accepted until this moment.
    public var previousSecretValidUntil: String?

    public init(tokenId: String, kind: Kind, memberId: String?, projectId: String, scope: Scope = .full, createdAt: String,
                expiresAt: String? = nil, revokedAt: String? = nil, lastUsedAt: String? = nil, previousSecretValidUntil: String? = nil) {
        self.tokenId = tokenId
        self.kind = kind
        self.memberId = memberId
        self.projectId = projectId
        self.scope = scope
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.lastUsedAt = lastUsedAt
        self.previousSecretValidUntil = previousSecretValidUntil
    }
}

/// What an append does to the `access_tokens` table, in the transaction of its event
/// (``AppendRequest/accessTokenChanges``): the secret's keyed hash never enters the log.
public enum AccessTokenChange: Sendable, Equatable {
    /// A new token's row, with its `project.token-issued` event.
    case issue(NewAccessToken)
    /// A new secret for a live token, with its `project.token-rotated` event; the former secret
    /// stays valid until `previousValidUntil`.
    case rotate(tokenId: String, secretHash: [UInt8], previousValidUntil: Timestamp)
}

/// A token minted and not yet stored: the row that goes into `access_tokens` in the same
/// transaction as its `project.token-issued` event.
public struct NewAccessToken: Sendable, Equatable {
    public var record: AccessToken
    /// The keyed hash of the secret.
    public var secretHash: [UInt8]
}

/// Why a presented token is not let in, as the API says it (401 with the reason): only a token
/// whose secret matched learns that it expired or was revoked.
public enum TokenCheck: Sendable, Equatable {
    case valid(AccessToken)
    /// Malformed, unknown or a wrong secret: nothing more is said.
    case invalid
    case expired(at: String)
    case revoked(at: String)

    /// The token, when it may act.
    public var token: AccessToken? {
        if case .valid(let token) = self { return token }
        return nil
    }
}

/// Mints, checks, rotates and revokes access tokens. A token reads `clt_<token id>_<secret>`;
/// only a BLAKE2b hash of the secret is stored, keyed with ``KeyRing/accessTokenKey`` (derived
/// from the master key): a copy of the database yields no usable token, and a row written into
/// the table by someone without the master key matches no secret.
///
/// Issuing, rotating and revoking are events of the project's stream
/// (``MembershipEvent/tokenIssued(_:)``, ``MembershipEvent/tokenRotated(_:)``,
/// ``MembershipEvent/tokenRevoked(_:)``), so the hash chain records who got a token and when.
/// The last use is not an event (it would grow the log with every request): it is a column,
/// written at most once a minute per token.
public enum AccessTokens {
    private static let prefix = "clt_"
    /// How stale `last_used_at` may get before a request writes it again.
    public static let lastUseGranularity: Duration = .seconds(60)

    /// A new token: the text shown once, and the row to store with its event.
    public static func mint(kind: AccessToken.Kind, memberId: String?, projectId: String, scope: AccessToken.Scope = .full,
                            expiresAt: Timestamp? = nil, now: Timestamp, key: [UInt8]) -> (token: String, new: NewAccessToken) {
        let tokenId = "tok_" + Sodium.randomText(16)
        let (token, secretHash) = secret(for: tokenId, key: key)
        let record = AccessToken(tokenId: tokenId, kind: kind, memberId: memberId, projectId: projectId, scope: scope,
                                 createdAt: now.iso8601, expiresAt: expiresAt?.iso8601)
        return (token, NewAccessToken(record: record, secretHash: secretHash))
    }

    /// A new secret for `tokenId`: the token text shown once, and its keyed hash.
    public static func secret(for tokenId: String, key: [UInt8]) -> (token: String, secretHash: [UInt8]) {
        let secret = Sodium.randomText(32)
        return (prefix + tokenId + "_" + secret, hash(secret, key: key))
    }

    /// Applies an append's change to the table (inside the append of its event). A rotation of
    /// a token that has no live row fails the append.
    static func apply(_ change: AccessTokenChange, _ db: any SQLSession) throws {
        switch change {
        case .issue(let token):
            let record = token.record
            try db.execute(sql: """
                INSERT INTO access_tokens (token_id, secret_hash, kind, member_id, project_id, created_at, scope, expires_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [record.tokenId, Data(token.secretHash), record.kind.rawValue, record.memberId, record.projectId,
                                 record.createdAt, record.scope.rawValue, record.expiresAt])
        case .rotate(let tokenId, let secretHash, let previousValidUntil):
            let rotated = try db.changes(sql: """
                UPDATE access_tokens
                SET previous_secret_hash = secret_hash, previous_valid_until = ?, secret_hash = ?
                WHERE token_id = ? AND revoked_at IS NULL
                """, arguments: [previousValidUntil.iso8601, Data(secretHash), tokenId])
            guard rotated == 1 else { throw UnexpectedRow(column: "token_id", expected: "a live token \(tokenId) to rotate") }
        }
    }

    /// What `presented` is at `now`: valid, or why not. The secret is compared in constant time,
    /// with the current one and, until its grace period ends, the one before a rotation.
    public static func check(_ presented: String, key: [UInt8], now: Timestamp, _ db: any SQLSession) throws -> TokenCheck {
        guard presented.utf8.count <= 128, presented.hasPrefix(prefix) else { return .invalid }
        let parts = presented.dropFirst(prefix.count).split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "tok" else { return .invalid }
        let tokenId = "tok_" + parts[1]
        guard let row = try db.fetchOne(sql: "SELECT * FROM access_tokens WHERE token_id = ?", arguments: [tokenId]) else { return .invalid }
        let presentedHash = hash(String(parts[2]), key: key)
        let token = try record(row)
        var matches = Sodium.constantTimeEqual(presentedHash, [UInt8](try row["secret_hash"] as Data))
        if !matches, let previous: Data = try row["previous_secret_hash"], let until = token.previousSecretValidUntil,
           let end = Timestamp(iso8601: until), now < end {
            matches = Sodium.constantTimeEqual(presentedHash, [UInt8](previous))
        }
        guard matches else { return .invalid }
        if let revokedAt = token.revokedAt { return .revoked(at: revokedAt) }
        if let expiresAt = token.expiresAt, !isBefore(now, expiresAt) { return .expired(at: expiresAt) }
        return .valid(token)
    }

    /// The live token that `presented` is at `now`, or `nil` (``check(_:key:now:_:)`` says why).
    public static func verify(_ presented: String, key: [UInt8], now: Timestamp = .now(), _ db: any SQLSession) throws -> AccessToken? {
        try check(presented, key: key, now: now, db).token
    }

    /// Notes that `token` was presented at `now`, when its last use is older than
    /// ``lastUseGranularity``: one write a minute per token, whatever the traffic.
    public static func noteUse(_ token: AccessToken, at now: Timestamp, _ db: any SQLSession) throws {
        let stale = (now - lastUseGranularity).iso8601
        try db.execute(sql: """
            UPDATE access_tokens SET last_used_at = ?
            WHERE token_id = ? AND (last_used_at IS NULL OR last_used_at < ?)
            """, arguments: [now.iso8601, token.tokenId, stale])
    }

    /// Whether ``noteUse(_:at:_:)`` would write (to skip the write transaction when not).
    public static func useIsStale(_ token: AccessToken, at now: Timestamp) -> Bool {
        guard let last = token.lastUsedAt.flatMap(Timestamp.init(iso8601:)) else { return true }
        return last < now - lastUseGranularity
    }

    /// A token's row, live or revoked.
    public static func find(_ tokenId: String, _ db: any SQLSession) throws -> AccessToken? {
        try db.fetchOne(sql: "SELECT * FROM access_tokens WHERE token_id = ?", arguments: [tokenId]).map { try record($0) }
    }

    /// Whether the token may still act at `now` (neither revoked nor expired), for what was opened with it.
    public static func isLive(_ tokenId: String, now: Timestamp, _ db: any SQLSession) throws -> Bool {
        guard let token = try find(tokenId, db) else { return false }
        return isLive(token, now: now)
    }

    /// Whether `token` may act at `now`.
    public static func isLive(_ token: AccessToken, now: Timestamp) -> Bool {
        token.revokedAt == nil && token.expiresAt.map { isBefore(now, $0) } ?? true
    }

    /// Every token, live or revoked, oldest first; only `projectId`'s when given.
    public static func all(in projectId: String? = nil, _ db: any SQLSession) throws -> [AccessToken] {
        let (filter, arguments): (String, SQLArguments) = projectId.map { (" WHERE project_id = ?", [$0]) } ?? ("", [])
        return try db.fetchAll(sql: "SELECT * FROM access_tokens" + filter + " ORDER BY created_at, token_id", arguments: arguments)
            .map { try record($0) }
    }

    /// A row as a record; a row that names an unknown kind or scope is refused, not guessed.
    private static func record(_ row: SQLRow) throws -> AccessToken {
        guard let kind = AccessToken.Kind(rawValue: try row["kind"]) else { throw UnexpectedRow(column: "kind", expected: "member or engine") }
        guard let scope = AccessToken.Scope(rawValue: try row["scope"]) else { throw UnexpectedRow(column: "scope", expected: "full or read") }
        return AccessToken(tokenId: try row["token_id"], kind: kind, memberId: try row["member_id"], projectId: try row["project_id"],
                           scope: scope, createdAt: try row["created_at"], expiresAt: try row["expires_at"],
                           revokedAt: try row["revoked_at"], lastUsedAt: try row["last_used_at"],
                           previousSecretValidUntil: try row["previous_valid_until"])
    }

    /// `now` is before the stored moment; a moment that does not parse counts as past (refused).
    private static func isBefore(_ now: Timestamp, _ stored: String) -> Bool {
        guard let moment = Timestamp(iso8601: stored) else { return false }
        return now < moment
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
