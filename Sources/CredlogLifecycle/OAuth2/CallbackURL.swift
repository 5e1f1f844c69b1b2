import Synchronization

/// credlog's OAuth2 redirect URI (`…/v1/oauth2/callback`), registered at providers. A server
/// started on port 0 learns its address once it listens, and sets it then.
public final class CallbackURL: Sendable, ExpressibleByStringLiteral {
    private let value: Mutex<String>

    public init(_ url: String) { value = Mutex(url) }
    public convenience init(stringLiteral url: String) { self.init(url) }

    public var url: String { value.withLock { $0 } }
    public func set(_ url: String) { value.withLock { $0 = url } }
}
