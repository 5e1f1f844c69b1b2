import CredlogDomain
import CredlogEvents
import CredlogProjections

extension ConnectionDetail {
    /// Loads a connection the acting principal may see, as `connection show` prints it.
    static func load(_ id: String, at point: PointInTime?, workspace: Workspace, principal: Principal) async throws -> ConnectionDetail {
        try await load(id, at: point, store: workspace.store, service: workspace.service, principal: principal)
    }

    var rows: [[String]] {
        [["id", id], ["project", project], ["piece", piece], ["auth", authType], ["name", name],
         ["status", status + (statusReason.map { " (\($0))" } ?? "") + " since \(statusSince) by \(statusChangedBy)"],
         ["flows", flows.isEmpty ? "0" : "\(flows.count): " + flows.joined(separator: ", ")],
         ["credentials", "\(credentialFingerprint) (version \(credentialVersion), \(credentialSource) \(credentialSetAt)"
            + (credentialExpiresAt.map { ", expires \($0)" } ?? "") + ")"],
         ["version", "\(streamVersion) (log position \(asOfPosition))"]]
    }
}
