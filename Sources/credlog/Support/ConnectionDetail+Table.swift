import CredlogDomain
import CredlogEvents
import CredlogProjections

extension ConnectionDetail {
    var rows: [[String]] {
        [["id", id], ["project", project], ["piece", piece], ["auth", authType], ["name", name],
         ["status", status + (statusReason.map { " (\($0))" } ?? "") + " since \(Output.time(statusSince)) by \(statusChangedBy)"],
         ["owner", createdBy + (reconnectedBy.map { ", last reconnected by \($0)" } ?? "")],
         ["checked", lastCheckedAt.map { "\(Output.time($0)): \(lastCheck ?? "")" } ?? "never"],
         ["flows", flows.isEmpty ? "0" : "\(flows.count): " + flows.joined(separator: ", ")],
         ["credentials", "\(credentialFingerprint) (version \(credentialVersion), \(credentialSource) \(Output.time(credentialSetAt))"
            + (credentialExpiresAt.map { ", expires \(Output.time($0))" } ?? "") + ")"],
         ["version", "\(streamVersion) (log position \(asOfPosition))"]]
    }
}
