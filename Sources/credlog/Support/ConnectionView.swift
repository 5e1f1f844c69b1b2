import CredlogDomain
import CredlogEvents

/// A connection as `connection show` prints it: secrets only as fingerprints.
struct ConnectionView: Encodable {
    var id: String
    var project: String
    var piece: String
    var authType: String
    var name: String
    var status: String
    var statusReason: String?
    var flows: [String]
    var credentialFingerprint: String
    var credentialExpiresAt: String?
    var streamVersion: Int64

    /// Loads a connection the principal may see; another project's connection is "not found".
    static func load(_ id: String, workspace: Workspace, principal: Principal) async throws -> ConnectionView {
        let (state, version) = try await workspace.service.loadConnection(id)
        guard let connection = state.connection else { throw DomainError.notFound("connection \(id)") }
        if case .outsider = try await workspace.service.caller(principal, in: connection.projectId) {
            throw DomainError.notFound("connection \(id)")
        }
        var status = "Active"
        var reason: String?
        if case .inactive(let inactive) = connection.status {
            status = "Inactive"
            reason = "\(inactive.kind.rawValue): \(inactive.reason)"
        }
        if case .deleted = state { status = "Deleted" }
        return ConnectionView(
            id: connection.id, project: connection.projectId, piece: connection.piece, authType: connection.authType.rawValue,
            name: connection.name, status: status, statusReason: reason, flows: connection.flows.sorted(),
            credentialFingerprint: connection.credentials.fingerprint, credentialExpiresAt: connection.credentials.expiresAt,
            streamVersion: version)
    }

    var rows: [[String]] {
        [["id", id], ["project", project], ["piece", piece], ["auth", authType], ["name", name],
         ["status", status + (statusReason.map { " (\($0))" } ?? "")],
         ["flows", flows.isEmpty ? "-" : "\(flows.count): " + flows.joined(separator: ", ")],
         ["credentials", credentialFingerprint + (credentialExpiresAt.map { ", expires \($0)" } ?? "")],
         ["version", String(streamVersion)]]
    }
}
