import Foundation

/// The keys of one database, unlocked with its master key.
///
/// At `init` the database gets a random integrity root key, kept wrapped by the master key
/// in the `keyring` table. The chain key and the fingerprint key are derived from it, so
/// rotating the master key re-wraps the root and leaves every hash and fingerprint valid.
public struct KeyRing: Sendable {
    public let masterKey: MasterKey
    /// Keys the hash chain (see ``ChainHasher``).
    public let chainKey: [UInt8]
    /// Keys credential fingerprints.
    public let fingerprintKey: [UInt8]
    /// Keys the hashes of the API's access tokens (see ``AccessTokens``).
    public let accessTokenKey: [UInt8]
    /// Keys the hashes of the page's session ids and their CSRF tokens (see `SessionStore`).
    public let sessionKey: [UInt8]

    private static let integrityRoot = "integrity-root"

    private init(masterKey: MasterKey, root: [UInt8]) {
        self.masterKey = masterKey
        chainKey = Sodium.deriveKey(from: root, id: 1, context: "chain___")
        fingerprintKey = Sodium.deriveKey(from: root, id: 2, context: "fingerpr")
        accessTokenKey = Sodium.deriveKey(from: root, id: 3, context: "accesstk")
        sessionKey = Sodium.deriveKey(from: root, id: 4, context: "sessions")
    }

    /// Creates the keyring of a new database.
    public static func create(in database: any SQLDatabase, masterKey: MasterKey, path: String) async throws -> KeyRing {
        var root = Sodium.randomBytes(Sodium.keyBytes)
        defer { Sodium.wipe(&root) }
        let wrapped = Data(KeyWrap.wrap(root, name: integrityRoot, under: masterKey))
        try await database.write { db in
            guard try db.fetchValue(sql: "SELECT COUNT(*) FROM keyring") == 0 else {
                throw KeyError.alreadyInitialised(path: path)
            }
            try db.execute(sql: "INSERT INTO keyring (name, master_key_id, wrapped) VALUES (?, ?, ?)", arguments: [
                integrityRoot, masterKey.id, wrapped,
            ])
        }
        return KeyRing(masterKey: masterKey, root: root)
    }

    /// Unlocks the keyring of an existing database; a wrong master key is a clear error.
    public static func unlock(_ database: any SQLDatabase, masterKey: MasterKey) async throws -> KeyRing {
        var root = try await database.read { db in try unwrapRoot(db, masterKey: masterKey) }
        defer { Sodium.wipe(&root) }
        return KeyRing(masterKey: masterKey, root: root)
    }

    private static func unwrapRoot(_ db: any SQLSession, masterKey: MasterKey) throws -> [UInt8] {
        guard let row = try db.fetchOne(sql: "SELECT master_key_id, wrapped FROM keyring WHERE name = ?", arguments: [integrityRoot]) else {
            throw KeyError.keyringDamaged(name: integrityRoot)
        }
        let expected: String = try row["master_key_id"]
        guard expected == masterKey.id else { throw KeyError.wrongMasterKey(expected: expected, given: masterKey.id) }
        let wrapped: Data = try row["wrapped"]
        guard let root = KeyWrap.unwrap([UInt8](wrapped), name: integrityRoot, under: masterKey) else {
            throw KeyError.keyringDamaged(name: integrityRoot)
        }
        return root
    }

    /// Re-wraps the integrity root and every data key under `newKey`, in one transaction, and
    /// retires every data key: a credential sealed from now on gets a new data key, so it needs
    /// the new master key (an old backup of the key tables with the old master key opens
    /// nothing set later). Returns how many data keys were re-wrapped. Ciphertexts in the log are
    /// untouched; ``CommandService/reseal(_:context:)`` seals current ones again under new keys.
    public static func rotate(_ database: any SQLDatabase, from oldKey: MasterKey, to newKey: MasterKey) async throws -> Int {
        try await database.write { db in
            var root = try unwrapRoot(db, masterKey: oldKey)
            defer { Sodium.wipe(&root) }
            try db.execute(sql: "UPDATE keyring SET master_key_id = ?, wrapped = ? WHERE name = ?", arguments: [
                newKey.id, Data(KeyWrap.wrap(root, name: integrityRoot, under: newKey)), integrityRoot,
            ])
            let rows = try db.fetchAll(sql: "SELECT connection_id, data_key_id, master_key_id, wrapped FROM data_keys")
            for row in rows {
                let connectionId: String = try row["connection_id"]
                let dataKeyId: String = try row["data_key_id"]
                let name = DataKeys.wrapName(connectionId: connectionId, dataKeyId: dataKeyId)
                let wrapped: Data = try row["wrapped"]
                guard var dataKey = KeyWrap.unwrap([UInt8](wrapped), name: name, under: oldKey) else {
                    throw KeyError.keyringDamaged(name: name)
                }
                defer { Sodium.wipe(&dataKey) }
                try db.execute(sql: "UPDATE data_keys SET master_key_id = ?, wrapped = ?, retired = 1 WHERE connection_id = ? AND data_key_id = ?",
                               arguments: [newKey.id, Data(KeyWrap.wrap(dataKey, name: name, under: newKey)), connectionId, dataKeyId])
            }
            return rows.count
        }
    }
}

/// Wraps a key under the master key, bound to its name (AEAD associated data).
enum KeyWrap {
    static func wrap(_ key: [UInt8], name: String, under master: MasterKey) -> [UInt8] {
        Sodium.seal(key, additionalData: Array("credlog/wrap/v1/\(name)".utf8), key: master.bytes)
    }

    static func unwrap(_ wrapped: [UInt8], name: String, under master: MasterKey) -> [UInt8]? {
        Sodium.open(wrapped, additionalData: Array("credlog/wrap/v1/\(name)".utf8), key: master.bytes)
    }
}
