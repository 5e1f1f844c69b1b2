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
    /// Who created it (its owner) and who last reconnected it: a member's id, `system` or `engine`.
    public var createdBy: String
    public var reconnectedBy: String?
    /// When its provider was last asked whether the credential works, and what it answered:
    /// `passed (HTTP 200)` or `refused (HTTP 401: Bad credentials)`.
    public var lastCheckedAt: String?
    public var lastCheck: String?
    /// The connection's stream version at that moment (the HTTP API's `ETag`).
    public var streamVersion: Int64
    public var asOfPosition: Int64
}

extension ConnectionDetail {
    /// The connection as `snapshot` leaves it; `nil` if it did not exist yet.
    init?(_ snapshot: ConnectionSnapshot) {
        guard let connection = snapshot.state.connection else { return nil }
        self.init(
            id: connection.id, project: connection.projectId, piece: connection.piece, authType: connection.authType.rawValue,
            name: connection.name, status: snapshot.statusName, statusReason: connection.status.reasonText, statusSince: snapshot.statusSince.iso8601,
            statusChangedBy: snapshot.statusChangedBy.id, flows: connection.flows.sorted(),
            credentialFingerprint: connection.credentials.fingerprint, credentialVersion: snapshot.credentialVersion,
            credentialSetAt: snapshot.credentialSetAt.iso8601, credentialSource: snapshot.credentialSource,
            credentialExpiresAt: connection.credentials.expiresAt,
            createdBy: snapshot.createdBy.id, reconnectedBy: snapshot.reconnectedBy?.id,
            lastCheckedAt: snapshot.lastCheckedAt?.iso8601,
            lastCheck: snapshot.lastCheck.map { "\($0.passed ? "passed" : "refused") (HTTP \($0.httpStatus)\($0.reason.map { ": \($0)" } ?? ""))" },
            streamVersion: snapshot.streamVersion, asOfPosition: snapshot.lastPosition)
    }
}
