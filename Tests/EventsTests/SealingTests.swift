import CredlogDomain
import CredlogEvents
import CredlogTestSupport
import Foundation
import Testing

@Suite("Sealed credentials", .serviceScope)
struct SealingTests {
    static let samples: [(AuthType, String)] = [
        (.apiKey, #"{"apiKey":"sk-live-1"}"#),
        (.oauth2, #"{"accessToken":"at","expiresAt":"2026-12-01T10:00:00.000000Z","refreshToken":"rt","scopes":["a","b"]}"#),
        (.basic, #"{"password":"hunter2","username":"ann"}"#),
        (.custom, #"{"region":"eu","token":"tok-9f2c-custom"}"#),
    ]

    func create(_ log: TemporaryLog, _ authType: AuthType, _ json: String) async throws -> String {
        var secret = Array(json.utf8)
        let outcome = try await log.service.createConnection(projectId: "acme", piece: "acme-crm", authType: authType, name: "C",
                                                             credentials: &secret, context: CommandContext(principal: .member("bob")))
        return try #require(outcome.stream.connectionId)
    }

    func sealed(_ log: TemporaryLog, _ id: String, version: Int64 = 1) async throws -> SealedCredentials {
        let event = try #require(try await log.store.readStream(.connection(id), from: version).first)
        return try #require(try event.decode(as: ConnectionEvent.self).credentials)
    }

    @Test(arguments: TestBackend.available)
    func everyAuthTypeRoundTripsAndNoPlaintextIsStored(backend: TestBackend) async throws {
        let log = try await TemporaryLog(backend: backend)
        try await log.seedProject()
        for (authType, json) in Self.samples {
            let id = try await create(log, authType, json)
            let opened = try await log.vault.open(try await sealed(log, id), connectionId: id, streamVersion: 1)
            #expect(String(decoding: opened, as: UTF8.self) == json)
            #expect(!(try await log.storedBytes()).contains(bytes: Array(json.utf8)))
        }
        for secret in ["sk-live-1", "hunter2", "tok-9f2c-custom"] {
            #expect(!(try await log.storedBytes()).contains(bytes: Array(secret.utf8)), "\(secret) is in the database file")
        }
    }

    @Test func aFlippedByteDoesNotOpen() async throws {
        let log = try await TemporaryLog()
        try await log.seedProject()
        let id = try await create(log, .apiKey, #"{"apiKey":"k"}"#)
        var tampered = try await sealed(log, id)
        var box = [UInt8](Data(base64Encoded: tampered.box)!)
        box[box.count / 2] ^= 0x01
        tampered.box = Data(box).base64EncodedString()
        await #expect(throws: KeyError.cannotOpen(connectionId: id, streamVersion: 1)) {
            _ = try await log.vault.open(tampered, connectionId: id, streamVersion: 1)
        }
    }

    @Test func aCiphertextMovedToAnotherRowDoesNotOpen() async throws {
        let log = try await TemporaryLog()
        try await log.seedProject()
        let a = try await create(log, .apiKey, #"{"apiKey":"a"}"#)
        let b = try await create(log, .apiKey, #"{"apiKey":"b"}"#)
        var rotated = Array(#"{"apiKey":"a2"}"#.utf8)
        _ = try await log.service.reconnect(a, credentials: &rotated, context: CommandContext(principal: .member("alice")))
        let first = try await sealed(log, a, version: 1)
        // Another connection's row.
        await #expect(throws: KeyError.self) { _ = try await log.vault.open(first, connectionId: b, streamVersion: 1) }
        // Another event of the same connection.
        await #expect(throws: KeyError.cannotOpen(connectionId: a, streamVersion: 2)) {
            _ = try await log.vault.open(first, connectionId: a, streamVersion: 2)
        }
        #expect(String(decoding: try await log.vault.open(try await sealed(log, a, version: 2), connectionId: a, streamVersion: 2), as: UTF8.self) == #"{"apiKey":"a2"}"#)
    }

    @Test func aWrongMasterKeyIsAClearError() async throws {
        let log = try await TemporaryLog()
        let wrong = MasterKey.generate()
        await #expect(throws: KeyError.wrongMasterKey(expected: log.masterKey.id, given: wrong.id)) {
            _ = try await KeyRing.unlock(log.database, masterKey: wrong)
        }
        #expect(throws: KeyError.self) { _ = try MasterKey(base64: "not base64!", origin: "test") }
        #expect(throws: KeyError.malformedMasterKey(origin: "test", reason: "it decodes to 3 bytes, not 32")) {
            _ = try MasterKey(base64: "YWJj", origin: "test")
        }
    }

    @Test(arguments: TestBackend.available)
    func afterDeleteTheSecretIsGoneEvenWithTheMasterKey(backend: TestBackend) async throws {
        let log = try await TemporaryLog(backend: backend)
        try await log.seedProject()
        let id = try await create(log, .apiKey, #"{"apiKey":"doomed"}"#)
        let box = try await sealed(log, id)
        let wrapped = try await log.database.read { try $0.fetchValue(sql: "SELECT wrapped FROM data_keys WHERE connection_id = ?", arguments: [id]) as Data? }
        let wrappedBytes = [UInt8](try #require(wrapped))
        #expect(try await log.storedBytes().contains(bytes: wrappedBytes))

        _ = try await log.service.delete(id, context: CommandContext(principal: .member("alice")))
        await #expect(throws: KeyError.dataKeyShredded(connectionId: id)) { _ = try await log.vault.open(box, connectionId: id, streamVersion: 1) }
        await #expect(throws: DomainError.connectionDeleted(id)) {
            _ = try await log.service.revealCredentials(id, context: CommandContext(principal: .engine))
        }
        #expect(!(try await log.storedBytes().contains(bytes: wrappedBytes)), "no copy of the wrapped data key is left in the files")
        #expect(try await log.store.readStream(.connection(id), from: 1).count == 2, "the history stays")
    }

    @Test(arguments: TestBackend.available)
    func afterRotationEveryOldSecretStillOpens(backend: TestBackend) async throws {
        let log = try await TemporaryLog(backend: backend)
        try await log.seedProject()
        var ids: [(String, String)] = []
        for (authType, json) in Self.samples { ids.append((try await create(log, authType, json), json)) }
        let newKey = MasterKey.generate()
        #expect(try await KeyRing.rotate(log.database, from: log.masterKey, to: newKey) == 4)

        await #expect(throws: KeyError.self) { _ = try await KeyRing.unlock(log.database, masterKey: log.masterKey) }
        let keys = try await KeyRing.unlock(log.database, masterKey: newKey)
        #expect(keys.chainKey == log.keys.chainKey, "the chain still verifies")
        #expect(keys.fingerprintKey == log.keys.fingerprintKey, "fingerprints still compare")
        let vault = CredentialVault(database: log.database, keys: keys)
        for (id, json) in ids {
            #expect(String(decoding: try await vault.open(try await sealed(log, id), connectionId: id, streamVersion: 1), as: UTF8.self) == json)
        }
    }

    @Test func fingerprintsTellSameSecretWithoutRevealingIt() async throws {
        let log = try await TemporaryLog()
        try await log.seedProject()
        let a = try await create(log, .apiKey, #"{"apiKey":"same"}"#)
        let b = try await create(log, .apiKey, #"{"apiKey":"same"}"#)
        let c = try await create(log, .apiKey, #"{"apiKey":"other"}"#)
        let fa = try await sealed(log, a).fingerprint, fb = try await sealed(log, b).fingerprint, fc = try await sealed(log, c).fingerprint
        #expect(fa == fb)
        #expect(fa != fc)
        #expect(fa.hasPrefix("fp:") && fa.count == 19)
        #expect(try await sealed(log, a).box != (try await sealed(log, b)).box, "fresh nonce and key per connection")
    }
}
