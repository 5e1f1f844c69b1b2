import CredlogEvents
import Foundation

/// A signed-in browser: the identity its token gives now, and the token its forms must carry (CSRF).
public struct Session: Sendable {
    /// The keyed hash of the cookie value: the session's key in the `sessions` table.
    let idHash: [UInt8]
    public var identity: Identity
    /// Every form of the page carries it; a POST without it is refused.
    public var csrfToken: String
    /// A message for the next page shown (what the last action did, or why it was refused).
    var flash: Flash?
}

/// A one-time message shown at the top of the next page.
public struct Flash: Sendable {
    public var message: String
    public var isError: Bool
}

/// How long sessions last and how many one token may hold.
public struct SessionPolicy: Sendable {
    /// A session unused this long ends.
    public var idleTimeout: Duration
    /// A session ends this long after sign-in, however busy.
    public var lifetime: Duration
    /// One token holds at most this many sessions; signing in past it ends its oldest.
    public var maxPerToken: Int
    /// How stale `last_seen_at` may get before a request writes it again (so a page view is
    /// a read, not a write).
    public var touchGranularity: Duration

    public init(idleTimeout: Duration = .seconds(30 * 60), lifetime: Duration = .seconds(8 * 3600), maxPerToken: Int = 20,
                touchGranularity: Duration = .seconds(60)) {
        self.idleTimeout = idleTimeout
        self.lifetime = lifetime
        self.maxPerToken = maxPerToken
        self.touchGranularity = touchGranularity
    }
}

/// Sessions of the Connections page, kept in the database: every server behind a load balancer
/// and a restarted one knows them, and signing out ends a session everywhere at once.
///
/// The cookie holds 32 random bytes; the table keeps only their keyed hash
/// (``KeyRing/sessionKey``), so a copy of the database opens no session. The CSRF token is
/// derived from the cookie value with the same key: nothing to store, and the same on every
/// server. A session ends when idle for ``SessionPolicy/idleTimeout``, at its absolute end, at
/// sign-out, or when its token is revoked or expires.
public struct SessionStore: Sendable {
    let database: any SQLDatabase
    let key: [UInt8]
    let policy: SessionPolicy

    public init(database: any SQLDatabase, key: [UInt8], policy: SessionPolicy = SessionPolicy()) {
        self.database = database
        self.key = key
        self.policy = policy
    }

    /// Opens a session for `identity` at `now`: returns the cookie value, shown to the browser
    /// only. Ended sessions go first, then this token's oldest beyond its limit.
    func open(_ identity: Identity, now: Timestamp) async throws -> String {
        let cookie = Sodium.randomBytes(32).hex
        let idle = (now - policy.idleTimeout).iso8601
        let keep = policy.maxPerToken - 1
        try await database.write { db in
            try db.execute(sql: "DELETE FROM sessions WHERE ends_at <= ? OR last_seen_at < ?", arguments: [now.iso8601, idle])
            try db.execute(sql: """
                DELETE FROM sessions WHERE token_id = ? AND id_hash NOT IN (
                    SELECT id_hash FROM sessions WHERE token_id = ? ORDER BY created_at DESC, id_hash LIMIT ?)
                """, arguments: [identity.token.tokenId, identity.token.tokenId, keep])
            try db.execute(sql: """
                INSERT INTO sessions (id_hash, token_id, created_at, last_seen_at, ends_at) VALUES (?, ?, ?, ?, ?)
                """, arguments: [Data(idHash(cookie)), identity.token.tokenId, now.iso8601, now.iso8601, (now + policy.lifetime).iso8601])
        }
        return cookie
    }

    /// The live session with this cookie value at `now`, with its token's identity as it is now;
    /// `nil` (and the row gone) when it ended. Notes the use once per ``SessionPolicy/touchGranularity``.
    func session(_ cookie: String, now: Timestamp) async throws -> Session? {
        guard cookie.utf8.count == 64, cookie.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else { return nil }
        let hash = idHash(cookie)
        let found = try await database.read { db -> (row: SQLRow, token: AccessToken?)? in
            guard let row = try db.fetchOne(sql: "SELECT * FROM sessions WHERE id_hash = ?", arguments: [Data(hash)]) else { return nil }
            return (row, try AccessTokens.find(try row["token_id"], db))
        }
        guard let found else { return nil }
        let lastSeen = Timestamp(iso8601: try found.row["last_seen_at"]) ?? Timestamp(microseconds: 0)
        let end = Timestamp(iso8601: try found.row["ends_at"]) ?? Timestamp(microseconds: 0)
        guard let token = found.token, AccessTokens.isLive(token, now: now), now < end, now - policy.idleTimeout < lastSeen else {
            try await close(hash)
            return nil
        }
        if lastSeen < now - policy.touchGranularity {
            try await database.write { db in
                try db.execute(sql: "UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?", arguments: [now.iso8601, Data(hash)])
            }
        }
        let flash: String? = try found.row["flash"]
        let isError: Int64 = try found.row["flash_is_error"]
        return Session(idHash: hash, identity: Identity(token: token), csrfToken: csrfToken(cookie),
                       flash: flash.map { Flash(message: $0, isError: isError != 0) })
    }

    /// Keeps a message for the session's next page (bounded: a message is one line of the page).
    func flash(_ session: Session, _ message: String, isError: Bool = false) async throws {
        let line = String(message.prefix(500))
        try await database.write { db in
            try db.execute(sql: "UPDATE sessions SET flash = ?, flash_is_error = ? WHERE id_hash = ?",
                           arguments: [line, isError ? 1 : 0, Data(session.idHash)])
        }
    }

    /// Forgets the message the session's page just showed.
    func clearFlash(_ session: Session) async throws {
        guard session.flash != nil else { return }
        try await database.write { db in
            try db.execute(sql: "UPDATE sessions SET flash = NULL, flash_is_error = 0 WHERE id_hash = ?", arguments: [Data(session.idHash)])
        }
    }

    /// Ends a session on every server (sign-out).
    func close(_ session: Session) async throws { try await close(session.idHash) }

    /// How many sessions `tokenId` holds (for tests and the operator).
    func count(of tokenId: String) async throws -> Int {
        try await database.read { db in
            try db.fetchValue(sql: "SELECT COUNT(*) FROM sessions WHERE token_id = ?", arguments: [tokenId]) ?? 0
        }
    }

    private func close(_ hash: [UInt8]) async throws {
        try await database.write { db in try db.execute(sql: "DELETE FROM sessions WHERE id_hash = ?", arguments: [Data(hash)]) }
    }

    private func idHash(_ cookie: String) -> [UInt8] {
        KeyedHash.digest(Array(("session:" + cookie).utf8), key: key)
    }

    private func csrfToken(_ cookie: String) -> String {
        KeyedHash.digest(Array(("csrf:" + cookie).utf8), key: key).hex
    }
}
