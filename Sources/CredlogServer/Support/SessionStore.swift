import CredlogEvents
import Foundation

/// A signed-in browser: the identity its token gave, and the token its forms must carry (CSRF).
public struct Session: Sendable {
    /// The cookie value.
    public var id: String
    public var identity: Identity
    /// Every form of the page carries it; a POST without it is refused.
    public var csrfToken: String
    var expiresAt: ContinuousClock.Instant
    /// A message for the next page shown (what the last action did, or why it was refused).
    var flash: Flash?
}

/// A one-time message shown at the top of the next page.
public struct Flash: Sendable {
    public var message: String
    public var isError: Bool
}

/// Sessions of the Connections page, kept in memory: signing in again after a restart is the
/// price of never writing a session secret to disk. The cookie holds a random id only.
///
/// Bounded: one token holds at most `maxPerToken` sessions and the store at most `maxSessions`;
/// past either, the session closest to expiry goes (signing in in a loop cannot grow memory).
public actor SessionStore {
    private var sessions: [String: Session] = [:]
    private let lifetime: Duration
    let maxSessions: Int
    let maxPerToken: Int

    public init(lifetime: Duration = .seconds(8 * 3600), maxSessions: Int = 10_000, maxPerToken: Int = 20) {
        self.lifetime = lifetime
        self.maxSessions = maxSessions
        self.maxPerToken = maxPerToken
    }

    /// How many sessions are open (for tests and the health of the server).
    var count: Int { sessions.count }

    /// Opens a session (its id is the cookie's value).
    func open(_ identity: Identity) -> Session {
        let now = ContinuousClock.now
        sessions = sessions.filter { $0.value.expiresAt > now }
        let sameToken = sessions.values.filter { $0.identity.token.tokenId == identity.token.tokenId }
        if sameToken.count >= maxPerToken, let oldest = sameToken.min(by: { $0.expiresAt < $1.expiresAt }) {
            sessions[oldest.id] = nil
        }
        if sessions.count >= maxSessions, let oldest = sessions.values.min(by: { $0.expiresAt < $1.expiresAt }) {
            sessions[oldest.id] = nil
        }
        let id = Sodium.randomBytes(32).hex
        let session = Session(id: id, identity: identity, csrfToken: Sodium.randomBytes(32).hex, expiresAt: now + lifetime)
        sessions[id] = session
        return session
    }

    /// The live session with this cookie value.
    func session(_ id: String) -> Session? {
        guard let session = sessions[id], session.expiresAt > ContinuousClock.now else { return nil }
        return session
    }

    /// Keeps a message for the session's next page.
    func flash(_ id: String, _ message: String, isError: Bool = false) {
        sessions[id]?.flash = Flash(message: message, isError: isError)
    }

    /// The session's message, once.
    func takeFlash(_ id: String) -> Flash? {
        defer { sessions[id]?.flash = nil }
        return sessions[id]?.flash
    }

    func close(_ id: String) {
        sessions[id] = nil
    }
}
