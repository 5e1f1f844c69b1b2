import CredlogDomain
import CredlogEvents

/// A project's view of the piece catalogue, with the secrets its admins registered: the OAuth2
/// client of a piece, the signing secret of a webhook. Secrets are opened only here, for a request.
public struct ProjectPieces: Sendable {
    let service: CommandService

    public init(service: CommandService) { self.service = service }

    /// The OAuth2 client the project uses for `pieceId`; its secret opened only when `openingSecret`
    /// (a token request needs it, a consent URL does not).
    public func oauth2Client(for pieceId: String, in projectId: String, openingSecret: Bool = true) async throws -> OAuth2Client.Registration {
        let events = try await service.store.readStream(.project(projectId), from: 1)
        let state = ProjectState.fold(try events.map { try $0.decode(as: MembershipEvent.self) })
        guard let piece = service.pieces.piece(pieceId, in: state), let settings = piece.oauth2 else {
            throw DomainError.invalid("the piece \(pieceId) does not use OAuth2")
        }
        guard let clientId = settings.clientId else {
            throw DomainError.invalid("no OAuth2 client is registered for \(pieceId) in project \(projectId): an admin registers one with `credlog piece register`")
        }
        // The secret of the project's latest registration of the piece (a built-in one has none).
        var secret: String?
        for event in events.reversed() where openingSecret {
            guard case .pieceRegistered(let registered) = try event.decode(as: MembershipEvent.self), registered.piece.id == pieceId else {
                continue
            }
            if let sealed = registered.clientSecret { secret = try await open(sealed, in: projectId, version: event.streamVersion) }
            break
        }
        return OAuth2Client.Registration(settings: settings, clientId: clientId, clientSecret: secret)
    }

    /// Opens a secret sealed in the project's stream at `version`.
    func open(_ sealed: SealedCredentials, in projectId: String, version: Int64) async throws -> String {
        var bytes = try await service.vault.open(sealed, connectionId: StreamID.project(projectId).rawValue, streamVersion: version)
        defer { Sodium.wipe(&bytes) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
