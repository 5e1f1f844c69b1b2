import Foundation

/// Seals and opens connection credentials with envelope encryption.
///
/// Each connection has its own random data key, wrapped by the master key in the
/// `data_keys` table (outside the log). Ciphertexts use XChaCha20-Poly1305 with
/// associated data naming the connection and the event's stream version, so a
/// ciphertext copied to another row fails to open. Deleting the connection deletes its
/// data key: its history stays, its secrets are gone for good (crypto-shredding).
public struct CredentialVault: Sendable {
    let database: any SQLDatabase
    public let keys: KeyRing

    public init(database: any SQLDatabase, keys: KeyRing) {
        self.database = database
        self.keys = keys
    }

    /// Credentials sealed for one event, and the connection's new data key when it had none yet:
    /// the key must be stored in the same transaction as the event (``AppendRequest/newDataKeys``).
    public struct Sealing: Sendable {
        public var credentials: SealedCredentials
        public var newDataKey: NewDataKey?
    }

    /// Seals `plaintext` for the event at `streamVersion` of `connectionId`. The caller wipes `plaintext`.
    /// A connection's first event (`streamVersion` 1) gets a new data key without looking for one.
    /// Project secrets (an OAuth2 client secret, a webhook's signing secret) are sealed the same
    /// way, under the project's stream (`connectionId` is then `project:ID`).
    public func seal(_ plaintext: [UInt8], authType: AuthType, expiresAt: String?, refreshable: Bool? = nil,
                     issuedAt: Timestamp? = nil, connectionId: String, streamVersion: Int64) async throws -> Sealing {
        var newDataKey: NewDataKey?
        var dataKeyId: String
        var dataKey: [UInt8]
        if streamVersion > 1, let existing = try await liveDataKey(for: connectionId) {
            (dataKeyId, dataKey) = existing
        } else {
            dataKeyId = "dk-" + Sodium.randomBytes(8).hex
            dataKey = Sodium.randomBytes(Sodium.keyBytes)
            let name = DataKeys.wrapName(connectionId: connectionId, dataKeyId: dataKeyId)
            newDataKey = NewDataKey(connectionId: connectionId, dataKeyId: dataKeyId, masterKeyId: keys.masterKey.id,
                                    wrapped: KeyWrap.wrap(dataKey, name: name, under: keys.masterKey))
        }
        defer { Sodium.wipe(&dataKey) }
        let box = Sodium.seal(plaintext, additionalData: binding(connectionId, streamVersion, dataKeyId), key: dataKey)
        return Sealing(credentials: SealedCredentials(authType: authType, keyId: dataKeyId, box: Data(box).base64EncodedString(),
                                                      fingerprint: fingerprint(of: plaintext), expiresAt: expiresAt,
                                                      refreshable: refreshable, issuedAt: issuedAt?.iso8601),
                       newDataKey: newDataKey)
    }

    /// Opens credentials sealed for the event at `streamVersion` of `connectionId`.
    /// The caller must wipe the returned bytes when done.
    public func open(_ sealed: SealedCredentials, connectionId: String, streamVersion: Int64) async throws -> [UInt8] {
        guard case (let dataKeyId, var dataKey)? = try await dataKey(sealed.keyId, of: connectionId) else {
            throw KeyError.dataKeyShredded(connectionId: connectionId)
        }
        defer { Sodium.wipe(&dataKey) }
        guard let box = Data(base64Encoded: sealed.box),
              let plaintext = Sodium.open([UInt8](box), additionalData: binding(connectionId, streamVersion, dataKeyId), key: dataKey)
        else { throw KeyError.cannotOpen(connectionId: connectionId, streamVersion: streamVersion) }
        return plaintext
    }

    /// Keyed BLAKE2b fingerprint (`fp:` and 16 hex digits): tells "same secret as before?" without revealing it.
    public func fingerprint(of canonicalPlaintext: [UInt8]) -> String {
        "fp:" + KeyedHash.digest(canonicalPlaintext, key: keys.fingerprintKey, outputLength: 16).hex.prefix(16)
    }

    /// Makes the space of shredded keys unreadable now (``SQLDatabase/reclaimDeletedRows(of:)``).
    public func purgeShreddedKeys() async throws {
        try await database.reclaimDeletedRows(of: "data_keys")
    }

    private func binding(_ connectionId: String, _ streamVersion: Int64, _ dataKeyId: String) -> [UInt8] {
        Array("credlog/credentials/v1/\(connectionId)/\(streamVersion)/\(dataKeyId)".utf8)
    }

    /// Whether the key that sealed `sealed` was retired by a master key rotation (so the
    /// credential should be sealed again: ``CommandService/reseal(_:context:)``).
    public func isRetired(_ sealed: SealedCredentials, connectionId: String) async throws -> Bool {
        try await database.read { db in
            try db.fetchValue(sql: "SELECT retired FROM data_keys WHERE connection_id = ? AND data_key_id = ?",
                              arguments: [connectionId, sealed.keyId]) ?? false
        }
    }

    /// The connection's live data key, unwrapped; `nil` when it has none (new, shredded, or
    /// retired by a rotation: then a new one is made).
    private func liveDataKey(for connectionId: String) async throws -> (String, [UInt8])? {
        try await unwrappedKey(sql: "SELECT data_key_id, master_key_id, wrapped FROM data_keys WHERE connection_id = ? AND retired = 0",
                               arguments: [connectionId], connectionId: connectionId)
    }

    /// One of the connection's data keys (live or retired), unwrapped; `nil` when it is gone.
    private func dataKey(_ dataKeyId: String, of connectionId: String) async throws -> (String, [UInt8])? {
        try await unwrappedKey(sql: "SELECT data_key_id, master_key_id, wrapped FROM data_keys WHERE connection_id = ? AND data_key_id = ?",
                               arguments: [connectionId, dataKeyId], connectionId: connectionId)
    }

    private func unwrappedKey(sql: String, arguments: SQLArguments, connectionId: String) async throws -> (String, [UInt8])? {
        let master = keys.masterKey
        return try await database.read { db in
            guard let row = try db.fetchOne(sql: sql, arguments: arguments) else { return nil }
            let dataKeyId: String = try row["data_key_id"]
            let masterKeyId: String = try row["master_key_id"]
            guard masterKeyId == master.id else { throw KeyError.wrongMasterKey(expected: masterKeyId, given: master.id) }
            let wrapped: Data = try row["wrapped"]
            let name = DataKeys.wrapName(connectionId: connectionId, dataKeyId: dataKeyId)
            guard let key = KeyWrap.unwrap([UInt8](wrapped), name: name, under: master) else {
                throw KeyError.keyringDamaged(name: name)
            }
            return (dataKeyId, key)
        }
    }
}

/// A connection's new data key, wrapped by the master key, to be stored with the event that first uses it.
public struct NewDataKey: Sendable, Equatable {
    public var connectionId: String
    public var dataKeyId: String
    public var masterKeyId: String
    public var wrapped: [UInt8]
}

/// Naming of data keys and their removal when a connection is deleted.
public enum DataKeys {
    static func wrapName(connectionId: String, dataKeyId: String) -> String {
        "data-key/\(connectionId)/\(dataKeyId)"
    }

    /// Deletes a connection's data keys in the transaction that appends its `connection.deleted` event.
    public struct Shredder: AppendObserver {
        public init() {}

        public func didAppend(_ events: [RecordedEvent], in db: any SQLSession) throws {
            for event in events where event.type == ConnectionEvent.TypeName.deleted {
                guard let connectionId = event.stream.connectionId else { continue }
                try db.execute(sql: "DELETE FROM data_keys WHERE connection_id = ?", arguments: [connectionId])
            }
        }
    }
}

extension StreamID {
    /// The connection id of a connection stream, `nil` for other streams.
    public var connectionId: String? {
        suffix(after: "connection:")
    }

    /// The project id of a project stream, `nil` for other streams.
    public var projectId: String? {
        suffix(after: "project:")
    }

    /// The name after an ASCII prefix, compared and cut by UTF-8 offset (no character walk).
    private func suffix(after prefix: StaticString) -> String? {
        let utf8 = rawValue.utf8
        let count = prefix.utf8CodeUnitCount
        guard utf8.count >= count, utf8.starts(with: UnsafeBufferPointer(start: prefix.utf8Start, count: count)) else { return nil }
        return String(rawValue[utf8.index(utf8.startIndex, offsetBy: count)...])
    }
}
