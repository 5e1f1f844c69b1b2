import CredlogDomain
import CredlogEvents
import CredlogProjections

/// A connection as `connection show` prints it, now or at a past moment: secrets only as fingerprints.
struct ConnectionView: Encodable {
    var id: String
    var project: String
    var piece: String
    var authType: String
    var name: String
    var status: String
    var statusReason: String?
    var statusSince: String
    var statusChangedBy: String
    var flows: [String]
    var credentialFingerprint: String
    var credentialVersion: Int64
    var credentialSetAt: String
    var credentialExpiresAt: String?
    var streamVersion: Int64
    var asOfPosition: Int64

    /// Loads a connection the principal may see; another project's connection is "not found",
    /// and so is one that did not exist yet at `point`.
    static func load(_ id: String, at point: PointInTime?, workspace: Workspace, principal: Principal) async throws -> ConnectionView {
        let events = try await workspace.store.readStream(.connection(id), from: 1)
        let current = try ConnectionSnapshot.fold(events, upTo: .position(.max))
        guard let project = current?.state.connection?.projectId,
              case .some = try await workspace.service.caller(principal, in: project).actor else {
            throw DomainError.notFound("connection \(id)")
        }
        guard let snapshot = try point.map({ try ConnectionSnapshot.fold(events, upTo: $0) }) ?? current,
              let connection = snapshot.state.connection else {
            throw DomainError.notFound("connection \(id) at that moment (it did not exist yet)")
        }
        var reason: String?
        if case .inactive(let inactive) = connection.status { reason = "\(inactive.kind.rawValue): \(inactive.reason)" }
        return ConnectionView(
            id: connection.id, project: connection.projectId, piece: connection.piece, authType: connection.authType.rawValue,
            name: connection.name, status: snapshot.statusName, statusReason: reason, statusSince: snapshot.statusSince.iso8601,
            statusChangedBy: snapshot.statusChangedBy.id, flows: connection.flows.sorted(),
            credentialFingerprint: connection.credentials.fingerprint, credentialVersion: snapshot.credentialVersion,
            credentialSetAt: snapshot.credentialSetAt.iso8601, credentialExpiresAt: connection.credentials.expiresAt,
            streamVersion: snapshot.streamVersion, asOfPosition: snapshot.lastPosition)
    }

    var rows: [[String]] {
        [["id", id], ["project", project], ["piece", piece], ["auth", authType], ["name", name],
         ["status", status + (statusReason.map { " (\($0))" } ?? "") + " since \(statusSince) by \(statusChangedBy)"],
         ["flows", flows.isEmpty ? "0" : "\(flows.count): " + flows.joined(separator: ", ")],
         ["credentials", "\(credentialFingerprint) (version \(credentialVersion), set \(credentialSetAt)"
            + (credentialExpiresAt.map { ", expires \($0)" } ?? "") + ")"],
         ["version", "\(streamVersion) (log position \(asOfPosition))"]]
    }
}
