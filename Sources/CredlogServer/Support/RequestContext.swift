import CredlogDomain
import CredlogEvents
import CredlogProjections
import Hummingbird

/// Who is calling, once their token (or session) is checked: a member or the engine, in one project.
public struct Identity: Sendable, Equatable {
    public var token: AccessToken

    /// The principal the domain sees.
    public var principal: Principal {
        switch token.kind {
        case .member: .member(token.memberId ?? "")
        case .engine: .engine
        }
    }

    /// The only project this identity may act on.
    public var projectId: String { token.projectId }

    /// The identity as the query service sees it: its principal, within its project.
    public var reader: QueryService.Reader { .init(principal, projectScope: projectId) }
}

/// The per-request context: Hummingbird's core storage, plus the caller once authenticated.
public struct CredlogRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by ``BearerAuthentication`` or ``SessionAuthentication``.
    public var identity: Identity?
    /// The session of a signed-in browser (the Connections page).
    public var session: Session?
    /// The client's address (without its port), for counting failed sign-ins; "unknown" when
    /// the request did not come over a socket (tests).
    public let clientAddress: String

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        clientAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }

    /// Bodies above this size are refused with 413 (credentials are at most 16 KiB).
    public var maxUploadSize: Int { 64 * 1024 }

    /// The caller; throws 401 when the request is not authenticated.
    func requireIdentity() throws -> Identity {
        guard let identity else { throw Problem.unauthorized }
        return identity
    }
}
