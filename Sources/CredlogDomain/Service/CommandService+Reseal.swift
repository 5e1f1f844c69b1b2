import CredlogEvents
import Foundation

extension CommandService {
    /// Seals a connection's current credential again under a new data key when the key that
    /// sealed it was retired by a master key rotation: the operator's act, as `system`. Appends
    /// `connection.credentials-resealed` (same fingerprint) with the new key, and the retired key
    /// is destroyed in the same transaction. Changes nothing for a connection whose key is live.
    public func reseal(_ id: String, context: CommandContext) async throws -> CommandOutcome {
        let events = try await store.readStream(.connection(id), from: 1)
        let decoded = try events.map { ($0, try $0.decode(as: ConnectionEvent.self)) }
        guard case .live = ConnectionState.fold(decoded.map(\.1)),
              let (carrier, payload) = decoded.last(where: { $0.1.credentials != nil }), let sealed = payload.credentials,
              try await vault.isRetired(sealed, connectionId: id) else {
            return CommandOutcome(stream: .connection(id), append: nil, versionIfUnchanged: events.last?.streamVersion ?? 0)
        }
        var plaintext = try await vault.open(sealed, connectionId: id, streamVersion: carrier.streamVersion)
        defer { Sodium.wipe(&plaintext) }
        let digest = requestDigest(["reseal", id, sealed.keyId])
        return try await executeConnection(.reseal, id: id, context: context, digest: digest) { state, version, _ in
            // Someone replaced the credential meanwhile: theirs is sealed under a live key already.
            guard let current = state.connection?.credentials, current.keyId == sealed.keyId else {
                return (.reseal(state.connection?.credentials ?? sealed), nil)
            }
            let sealing = try await vault.seal(plaintext, authType: current.authType, expiresAt: current.expiresAt,
                                               refreshable: current.refreshable,
                                               issuedAt: current.issuedAt.flatMap(Timestamp.init(iso8601:)),
                                               connectionId: id, streamVersion: version + 1)
            return (.reseal(sealing.credentials), sealing.newDataKey)
        }
    }
}
