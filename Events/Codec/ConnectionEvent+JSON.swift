import Foundation

/// The connection events' payloads written and read without Foundation's JSON coders. The
/// `Codable` conformances of the payload types stay the definition of the format: a property
/// test (`PayloadCodecTests`) checks that these functions write the same bytes as
/// ``PayloadJSON`` and read back the same events, for random events of every type and version.
/// Members are written in sorted key order, as `JSONEncoder` with `.sortedKeys` writes them.
extension ConnectionEvent {
    /// The payload's JSON.
    func payloadJSON() -> Data {
        var json = JSONWriter()
        json.object { json in
            switch self {
            case .created(let created):
                json.member("authType", created.authType.rawValue)
                json.member("connectionId", created.connectionId)
                json.name("credentials")
                created.credentials.write(to: &json)
                json.member("name", created.name)
                json.member("piece", created.piece)
                json.member("projectId", created.projectId)
            case .reconnected(let reconnected):
                json.name("credentials")
                reconnected.credentials.write(to: &json)
            case .renamed(let renamed):
                json.member("from", renamed.from)
                json.member("to", renamed.to)
            case .expired(let deactivated), .revoked(let deactivated):
                json.member("reason", deactivated.reason)
            case .deleted:
                break
            case .attachedToFlow(let link), .detachedFromFlow(let link):
                json.member("flowId", link.flowId)
            case .tokenRefreshed(let refreshed):
                json.name("credentials")
                refreshed.credentials.write(to: &json)
                json.member("previousFingerprint", refreshed.previousFingerprint)
            case .credentialsResealed(let resealed):
                json.name("credentials")
                resealed.credentials.write(to: &json)
            case .expiryWarned(let warning):
                json.member("credentialFingerprint", warning.credentialFingerprint)
                json.member("daysAhead", warning.daysAhead)
                json.member("expiresAt", warning.expiresAt)
                json.member("webhookId", warning.webhookId)
            case .checked(let check):
                json.member("credentialFingerprint", check.credentialFingerprint)
                json.member("httpStatus", check.httpStatus)
                json.member("passed", check.passed)
                json.member("reason", check.reason)
            }
        }
        return json.data
    }

    /// Reads a payload of `type` at `schemaVersion`, upcasting old versions; `nil` for a type or
    /// version this build does not know.
    static func fromPayload(type: String, schemaVersion: Int, payload: Data) throws(PayloadMismatch) -> ConnectionEvent? {
        switch (type, schemaVersion) {
        case (TypeName.deleted, 1):
            return .deleted  // its payload carries nothing: not read, as the Codable decoder never read it
        case (TypeName.created, 1):
            let fields = try PayloadFields(payload)
            return .created(Created(connectionId: try fields.string("connectionId"), projectId: try fields.string("projectId"),
                                    piece: try fields.string("piece"), authType: try fields.value("authType"),
                                    name: try fields.string("name"), credentials: try SealedCredentials(try fields.fields("credentials"))))
        case (TypeName.reconnected, 1):
            return .reconnected(Reconnected(credentials: try SealedCredentials(try PayloadFields(payload).fields("credentials"))))
        case (TypeName.renamed, 1):
            let fields = try PayloadFields(payload)
            return .renamed(Renamed(from: try fields.string("from"), to: try fields.string("to")))
        case (TypeName.expired, 1):
            return .expired(try ExpiredV1Upcaster.upcast(try PayloadFields(payload)))
        case (TypeName.expired, 2):
            return .expired(Deactivated(reason: try PayloadFields(payload).string("reason")))
        case (TypeName.revoked, 1):
            return .revoked(Deactivated(reason: try PayloadFields(payload).string("reason")))
        case (TypeName.attachedToFlow, 1):
            return .attachedToFlow(FlowLink(flowId: try PayloadFields(payload).string("flowId")))
        case (TypeName.detachedFromFlow, 1):
            return .detachedFromFlow(FlowLink(flowId: try PayloadFields(payload).string("flowId")))
        case (TypeName.tokenRefreshed, 1):
            let fields = try PayloadFields(payload)
            return .tokenRefreshed(TokenRefreshed(credentials: try SealedCredentials(try fields.fields("credentials")),
                                                  previousFingerprint: try fields.string("previousFingerprint")))
        case (TypeName.credentialsResealed, 1):
            return .credentialsResealed(CredentialsResealed(credentials: try SealedCredentials(try PayloadFields(payload).fields("credentials"))))
        case (TypeName.expiryWarned, 1):
            let fields = try PayloadFields(payload)
            return .expiryWarned(ExpiryWarning(webhookId: try fields.string("webhookId"),
                                               credentialFingerprint: try fields.string("credentialFingerprint"),
                                               expiresAt: try fields.string("expiresAt"), daysAhead: try fields.int("daysAhead")))
        case (TypeName.checked, 1):
            let fields = try PayloadFields(payload)
            return .checked(Check(credentialFingerprint: try fields.string("credentialFingerprint"), passed: try fields.bool("passed"),
                                  httpStatus: try fields.int("httpStatus"), reason: try fields.optionalString("reason")))
        default:
            return nil
        }
    }
}

extension SealedCredentials {
    fileprivate init(_ fields: PayloadFields) throws(PayloadMismatch) {
        self.init(authType: try fields.value("authType"), keyId: try fields.string("keyId"), box: try fields.string("box"),
                  fingerprint: try fields.string("fingerprint"), expiresAt: try fields.optionalString("expiresAt"),
                  refreshable: try fields.optionalBool("refreshable"), issuedAt: try fields.optionalString("issuedAt"))
    }

    fileprivate func write(to json: inout JSONWriter) {
        json.object { json in
            json.member("authType", authType.rawValue)
            json.member("box", box)
            json.member("expiresAt", expiresAt)
            json.member("fingerprint", fingerprint)
            json.member("issuedAt", issuedAt)
            json.member("keyId", keyId)
            json.member("refreshable", refreshable)
        }
    }
}
