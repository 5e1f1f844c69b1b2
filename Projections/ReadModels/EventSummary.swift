import CredlogEvents

/// The fields of an event worth showing, with credentials replaced by their fingerprint.
public enum EventSummary {
    /// The payload's fields as text; sealed credentials appear only as `credentials=fp:…`.
    /// Events of other streams (none that credlog writes) show no fields.
    public static func fields(of event: ProjectedEvent) -> [String: String] {
        switch event.payload {
        case .connection(let decoded):
            switch decoded {
            case .created(let created):
                return credentialFields(created.credentials).merging(
                    ["name": created.name, "piece": created.piece, "authType": created.authType.rawValue]) { $1 }
            case .reconnected(let reconnected): return credentialFields(reconnected.credentials)
            case .renamed(let renamed): return ["from": renamed.from, "to": renamed.to]
            case .expired(let reason), .revoked(let reason): return ["reason": reason.reason]
            case .deleted: return [:]
            case .attachedToFlow(let link), .detachedFromFlow(let link): return ["flow": link.flowId]
            case .tokenRefreshed(let refreshed):
                return credentialFields(refreshed.credentials).merging(["previous": refreshed.previousFingerprint]) { $1 }
            case .credentialsResealed(let resealed): return ["fingerprint": resealed.credentials.fingerprint, "keyId": resealed.credentials.keyId]
            case .checked(let check):
                var fields = ["fingerprint": check.credentialFingerprint, "passed": String(check.passed), "httpStatus": String(check.httpStatus)]
                fields["reason"] = check.reason
                return fields
            case .expiryWarned(let warning):
                return ["webhook": warning.webhookId, "fingerprint": warning.credentialFingerprint, "expiresAt": warning.expiresAt,
                        "daysAhead": String(warning.daysAhead)]
            }
        case .membership(let decoded):
            switch decoded {
            case .memberAdded(let added): return ["member": added.memberId, "role": added.role.rawValue]
            case .roleChanged(let changed): return ["member": changed.memberId, "from": changed.from.rawValue, "to": changed.to.rawValue]
            case .memberRemoved(let removed): return ["member": removed.memberId]
            case .pieceRegistered(let registered):
                var fields = ["piece": registered.piece.id, "authType": registered.piece.authType.rawValue]
                fields["clientId"] = registered.piece.oauth2?.clientId
                fields["clientSecret"] = registered.clientSecret?.fingerprint
                return fields
            case .webhookAdded(let added):
                return ["webhook": added.webhookId, "url": added.url, "secret": added.secret.fingerprint, "warnDaysAhead": String(added.warningLead)]
            case .webhookRemoved(let removed): return ["webhook": removed.webhookId]
            case .tokenIssued(let issued):
                var fields = ["token": issued.tokenId, "kind": issued.kind.rawValue, "scope": issued.effectiveScope.rawValue]
                fields["member"] = issued.memberId
                fields["expiresAt"] = issued.expiresAt
                return fields
            case .tokenRevoked(let revoked): return ["token": revoked.tokenId]
            case .tokenRotated(let rotated): return ["token": rotated.tokenId, "previousValidUntil": rotated.previousSecretValidUntil]
            }
        case .other:
            return [:]
        }
    }

    /// `key=value` pairs in key order.
    public static func text(_ fields: [String: String]) -> String {
        fields.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }

    private static func credentialFields(_ sealed: SealedCredentials) -> [String: String] {
        var fields = ["credentials": sealed.fingerprint, "keyId": sealed.keyId]
        fields["expiresAt"] = sealed.expiresAt
        return fields
    }
}
