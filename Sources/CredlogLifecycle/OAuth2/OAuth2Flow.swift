import CredlogDomain
import CredlogEvents
import Foundation

/// The authorization-code flow for OAuth2 pieces: ``start(_:now:)`` makes the provider's consent
/// URL; ``complete(state:code:error:errorDescription:now:correlationId:)`` checks the state,
/// exchanges the code and appends the create or reconnect, as the member who started it.
public struct OAuth2Flow: Sendable {
    let service: CommandService
    let authorizations: OAuth2Authorizations
    let client: OAuth2Client
    let pieces: ProjectPieces
    /// Where the provider sends the browser back: credlog's `/v1/oauth2/callback`.
    public let callbackURL: CallbackURL

    public init(service: CommandService, authorizations: OAuth2Authorizations, client: OAuth2Client, callbackURL: CallbackURL) {
        self.service = service
        self.authorizations = authorizations
        self.client = client
        pieces = ProjectPieces(service: service)
        self.callbackURL = callbackURL
    }

    /// What a member asks to authorize: a new connection of `piece` named `name`, or a reconnect.
    public struct Request: Sendable {
        public var projectId: String
        public var memberId: String
        public var piece: String?
        public var name: String?
        public var connectionId: String?

        public init(projectId: String, memberId: String, piece: String?, name: String?, connectionId: String?) {
            self.projectId = projectId
            self.memberId = memberId
            self.piece = piece
            self.name = name
            self.connectionId = connectionId
        }
    }

    /// The consent URL to open, with its state.
    public struct Started: Sendable, Encodable {
        public var authorizationUrl: String
        public var state: String
        public var expiresAt: String
    }

    /// The flow did not end in a connection; nothing was appended. The callback that brought it
    /// is a bad request (its state unknown, the provider's answer a refusal).
    public enum Failure: CategorizedError, Equatable {
        case unknownState
        case providerDenied(error: String, description: String?)
        case exchange(OAuth2Client.Failure)

        public var description: String {
            switch self {
            case .unknownState: "this authorization is unknown, was already used, or expired: start again from the Connections page"
            case .providerDenied(let error, let description):
                "the provider did not authorize the connection (\(error)\(description.map { ": \($0)" } ?? ""))"
            case .exchange(let failure): "the authorization code could not be exchanged: \(failure)"
            }
        }

        public var category: ErrorCategory { .usage }
    }

    /// Makes the consent URL. `browserBinding`: the value of a cookie of the browser that asked
    /// (the page's flow); the callback must come from a browser presenting it.
    public func start(_ request: Request, now: Timestamp, browserBinding: String? = nil) async throws -> Started {
        do {
            return try await authorize(request, now: now, browserBinding: browserBinding)
        } catch let refusal as DomainError {
            // Refused like any command, and kept in the audit trail like one.
            let context = CommandContext(principal: .member(request.memberId), now: now, projectScope: request.projectId, via: "http")
            try await service.recordRefusal(refusal, command: "oauth2.authorize", context: context, projectId: request.projectId,
                                            stream: request.connectionId.map { .connection($0) })
            throw refusal
        }
    }

    private func authorize(_ request: Request, now: Timestamp, browserBinding: String?) async throws -> Started {
        let principal = Principal.member(request.memberId)
        let caller = try await service.caller(principal, in: request.projectId)
        let piece: String
        let target: OAuth2Authorizations.Pending.Target
        if let connectionId = request.connectionId {
            let (state, _) = try await service.loadConnection(connectionId)
            guard let connection = state.connection, connection.projectId == request.projectId else {
                throw DomainError.notFound("connection \(connectionId)")
            }
            try ConnectionDecider.authorize(.reconnect, by: caller, state: state, connectionId: connectionId)
            piece = connection.piece
            target = .reconnect(connectionId: connectionId)
        } else {
            guard case .member = caller else { throw DomainError.notFound("project \(request.projectId)") }
            guard let requested = request.piece else { throw DomainError.invalid("name the piece to connect") }
            piece = requested
            target = .create(name: try ConnectionName.validate(request.name ?? ""))
        }
        let oauth = try await pieces.oauth2Client(for: piece, in: request.projectId, openingSecret: false)
        let pkce = oauth.settings.pkce ? OAuth2Authorizations.pkcePair() : nil
        let callbackURL = callbackURL.url
        let (state, expiresAt) = try await authorizations.begin(
            .init(projectId: request.projectId, memberId: request.memberId, piece: piece, target: target,
                  codeVerifier: pkce?.verifier, redirectURI: callbackURL, browserBinding: browserBinding), now: now)
        var query: [(name: String, value: String?)] = [("response_type", "code"), ("client_id", oauth.clientId), ("redirect_uri", callbackURL),
                     ("scope", oauth.settings.scopes.joined(separator: " ")), ("state", state)]
        if let pkce { query += [("code_challenge", pkce.challenge), ("code_challenge_method", "S256")] }
        let separator = oauth.settings.authorizeUrl.contains("?") ? "&" : "?"
        let url = oauth.settings.authorizeUrl + separator
            + FormEncoding.encode(query)
        return Started(authorizationUrl: url, state: state, expiresAt: expiresAt.iso8601)
    }

    /// What the callback did.
    public struct Completed: Sendable, Equatable {
        public var connectionId: String
        public var projectId: String
        public var created: Bool
    }

    /// Handles the provider's redirect. The state is used up whatever happens next.
    public func complete(state: String?, code: String?, error: String?, errorDescription: String?, now: Timestamp,
                         correlationId: String? = nil, browserBinding: String? = nil) async throws -> Completed {
        guard let state, let pending = try await authorizations.consume(state, browserBinding: browserBinding, now: now) else {
            throw Failure.unknownState
        }
        if let error {
            throw Failure.providerDenied(error: ProviderReason.sanitised(error) ?? "no error code",
                                         description: errorDescription.flatMap { ProviderReason.sanitised($0) })
        }
        guard let code, !code.isEmpty else { throw Failure.providerDenied(error: "no code", description: nil) }
        let oauth = try await pieces.oauth2Client(for: pending.piece, in: pending.projectId)
        let grant: TokenGrant
        do {
            grant = try await client.exchange(code: code, verifier: pending.codeVerifier, redirectURI: pending.redirectURI, client: oauth)
        } catch {
            throw Failure.exchange(error)
        }
        var credentials = try grant.credentialJSON(now: now)
        let context = CommandContext(principal: .member(pending.memberId), now: now, correlationId: correlationId,
                                     projectScope: pending.projectId, via: "oauth2")
        switch pending.target {
        case .create(let name):
            let outcome = try await service.createConnection(projectId: pending.projectId, piece: pending.piece, authType: .oauth2,
                                                             name: name, credentials: &credentials, context: context)
            return Completed(connectionId: outcome.stream.connectionId ?? "", projectId: pending.projectId, created: true)
        case .reconnect(let connectionId):
            _ = try await service.reconnect(connectionId, credentials: &credentials, context: context)
            return Completed(connectionId: connectionId, projectId: pending.projectId, created: false)
        }
    }
}
