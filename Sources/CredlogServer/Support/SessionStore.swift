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
public actor SessionStore {
    private var sessions: [String: Session] = [:]
    private let lifetime: Duration

    public init(lifetime: Duration = .seconds(8 * 3600)) {
        self.lifetime = lifetime
    }

    /// Opens a session (its id is the cookie's value).
    func open(_ identity: Identity) -> Session {
        let now = ContinuousClock.now
        sessions = sessions.filter { $0.value.expiresAt > now }
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
