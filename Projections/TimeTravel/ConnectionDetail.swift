import CredlogDomain
import CredlogEvents

/// A connection as people see it, now or at a past moment: secrets only as fingerprints.
public struct ConnectionDetail: Sendable, Equatable, Codable {
    public var id: String
    public var project: String
    public var piece: String
    public var authType: String
    public var name: String
    /// `Active`, `Inactive` or `Deleted`.
    public var status: String
    public var statusReason: String?
    public var statusSince: String
    public var statusChangedBy: String
    public var flows: [String]
    public var credentialFingerprint: String
    public var credentialVersion: Int64
    public var credentialSetAt: String
    /// `created`, `reconnected` or `refreshed`.
    public var credentialSource: String
    public var credentialExpiresAt: String?
    /// The connection's stream version at that moment (the HTTP API's `ETag`).
    public var streamVersion: Int64
    public var asOfPosition: Int64

    /// Loads a connection the principal may see; another project's connection (or one outside
    /// `projectScope`) is "not found", and so is one that did not exist yet at `point`.
    public static func load(_ id: String, at point: PointInTime?, store: any EventStore, service: CommandService,
                            principal: Principal, projectScope: String? = nil) async throws -> ConnectionDetail {
        let events = try await store.readStream(.connection(id), from: 1)
        let current = try ConnectionSnapshot.fold(events, upTo: .position(.max))
        guard let project = current?.state.connection?.projectId, projectScope == nil || projectScope == project,
              case .some = try await service.caller(principal, in: project).actor else {
            throw DomainError.notFound("connection \(id)")
        }
        guard let snapshot = try point.map({ try ConnectionSnapshot.fold(events, upTo: $0) }) ?? current,
              let connection = snapshot.state.connection else {
            throw DomainError.notFound("connection \(id) at that moment (it did not exist yet)")
        }
        var reason: String?
        if case .inactive(let inactive) = connection.status { reason = "\(inactive.kind.rawValue): \(inactive.reason)" }
        return ConnectionDetail(
            id: connection.id, project: connection.projectId, piece: connection.piece, authType: connection.authType.rawValue,
            name: connection.name, status: snapshot.statusName, statusReason: reason, statusSince: snapshot.statusSince.iso8601,
            statusChangedBy: snapshot.statusChangedBy.id, flows: connection.flows.sorted(),
            credentialFingerprint: connection.credentials.fingerprint, credentialVersion: snapshot.credentialVersion,
            credentialSetAt: snapshot.credentialSetAt.iso8601, credentialSource: snapshot.credentialSource,
            credentialExpiresAt: connection.credentials.expiresAt,
            streamVersion: snapshot.streamVersion, asOfPosition: snapshot.lastPosition)
    }
}
