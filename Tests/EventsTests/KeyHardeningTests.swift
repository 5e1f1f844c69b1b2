import CredlogDomain
import CredlogEvents
import CredlogTestSupport
import Foundation
import GRDB
import Testing

/// Keys against whoever holds an old backup or can write beside the key file.
@Suite("Key hardening", .serviceScope)
struct KeyHardeningTests {
    func create(_ log: TemporaryLog, _ json: String, service: CommandService? = nil) async throws -> String {
        var secret = Array(json.utf8)
        let outcome = try await (service ?? log.service).createConnection(
            projectId: "acme", piece: "acme-crm", authType: .apiKey, name: "C", credentials: &secret,
            context: CommandContext(principal: .member("bob")))
        return try #require(outcome.stream.connectionId)
    }

    func sealed(_ log: TemporaryLog, _ id: String) async throws -> (SealedCredentials, Int64) {
        let events = try await log.store.readStream(.connection(id), from: 1)
        let carrier = try #require(try events.last { try $0.decode(as: ConnectionEvent.self).credentials != nil })
        return (try #require(try carrier.decode(as: ConnectionEvent.self).credentials), carrier.streamVersion)
    }

    /// A copy of the database file as it is now (a backup).
    func backup(_ log: TemporaryLog) throws -> String {
        try log.pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        let copy = log.directory.appendingPathComponent("backup.sqlite").path
        try FileManager.default.copyItem(atPath: log.path, toPath: copy)
        return copy
    }

    @Test func anOldBackupWithTheOldMasterKeyOpensNothingSetAfterARotation() async throws {
        let log = try await TemporaryLog()
        try await log.seedProject()
        let id = try await create(log, #"{"apiKey":"before-rotation"}"#)
        let oldBackup = try backup(log)

        let newKey = MasterKey.generate()
        _ = try await KeyRing.rotate(log.database, from: log.masterKey, to: newKey)
        let vault = CredentialVault(database: log.database, keys: try await KeyRing.unlock(log.database, masterKey: newKey))
        let service = CommandService(store: log.store, vault: vault)
        var later = Array(#"{"apiKey":"SENTINEL-set-after-rotation"}"#.utf8)
        _ = try await service.reconnect(id, credentials: &later, context: CommandContext(principal: .member("alice")))
        let (current, version) = try await sealed(log, id)
        #expect(String(decoding: try await vault.open(current, connectionId: id, streamVersion: version), as: UTF8.self)
                    == #"{"apiKey":"SENTINEL-set-after-rotation"}"#)

        // Whoever kept the old backup and the old master key: the new credential's key is not there.
        let backupDatabase = SQLiteDatabase(try CredlogDatabase.open(path: oldBackup))
        let oldVault = CredentialVault(database: backupDatabase, keys: try await KeyRing.unlock(backupDatabase, masterKey: log.masterKey))
        await #expect(throws: KeyError.self) { _ = try await oldVault.open(current, connectionId: id, streamVersion: version) }
    }

    @Test(arguments: TestBackend.available)
    func resealingMovesCurrentCredentialsToNewKeysAndDestroysTheRetiredOnes(backend: TestBackend) async throws {
        let log = try await TemporaryLog(backend: backend)
        try await log.seedProject()
        let id = try await create(log, #"{"apiKey":"kept-secret"}"#)
        let (before, _) = try await sealed(log, id)
        let newKey = MasterKey.generate()
        _ = try await KeyRing.rotate(log.database, from: log.masterKey, to: newKey)
        let vault = CredentialVault(database: log.database, keys: try await KeyRing.unlock(log.database, masterKey: newKey))
        let service = CommandService(store: log.store, vault: vault)
        #expect(try await vault.isRetired(before, connectionId: id))

        // Only the operator reseals; a member's attempt is refused and appends nothing.
        let eventsBefore = try await log.allEvents()
        await #expect(throws: DomainError.self) {
            _ = try await service.reseal(id, context: CommandContext(principal: .member("alice")))
        }
        #expect(try await log.allEvents() == eventsBefore)

        let outcome = try await service.reseal(id, context: CommandContext(principal: .system))
        #expect(!outcome.changedNothing)
        let (after, version) = try await sealed(log, id)
        #expect(after.fingerprint == before.fingerprint && after.keyId != before.keyId)
        #expect(try await log.store.readStream(.connection(id), from: 1).last?.type == "connection.credentials-resealed")
        #expect(String(decoding: try await vault.open(after, connectionId: id, streamVersion: version), as: UTF8.self)
                    == #"{"apiKey":"kept-secret"}"#)
        let keys = try await log.database.read { db in
            try db.fetchAll(sql: "SELECT data_key_id, retired FROM data_keys WHERE connection_id = ?", arguments: [id])
                .map { (try $0[0] as String, try $0[1] as Int64) }
        }
        #expect(keys.count == 1 && keys[0].0 == after.keyId && keys[0].1 == 0, "the retired key was destroyed")
        #expect(try await service.reseal(id, context: CommandContext(principal: .system)).changedNothing, "a second pass changes nothing")
    }

    @Test func aKeyFileBehindASymbolicLinkIsCheckedByTheFileItPointsTo() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("credlog-keyfile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = MasterKey.generate()
        let file = directory.appendingPathComponent("master.key").path
        try KeyFile.write(key, to: file)
        let link = directory.appendingPathComponent("link.key").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: file)
        #expect(try KeyFile.read(link).id == key.id, "a link to a 0600 file is fine")

        let open = directory.appendingPathComponent("open.key").path
        try KeyFile.write(key, to: open)
        chmod(open, 0o644)
        let openLink = directory.appendingPathComponent("open-link.key").path
        try FileManager.default.createSymbolicLink(atPath: openLink, withDestinationPath: open)
        #expect(throws: KeyError.keyFileTooOpen(path: openLink, mode: "644")) { _ = try KeyFile.read(openLink) }

        let huge = directory.appendingPathComponent("huge.key").path
        #expect(FileManager.default.createFile(atPath: huge, contents: Data(repeating: 65, count: 1 << 20), attributes: [.posixPermissions: 0o600]))
        #expect(throws: KeyError.self) { _ = try KeyFile.read(huge) }
    }

    @Test func aTokenRowWrittenWithoutTheMasterKeyOpensNothing() async throws {
        let log = try await TemporaryLog()
        try await log.seedProject()
        // Someone with write access to the file inserts a token hashed as credlog once did (a
        // public constant key): it must not verify.
        let secret = "attacker-chosen-secret-0123456789ab"
        let forged = KeyedHash.digest(Array(secret.utf8), key: Array("credlog access token v1".utf8))
        try await log.database.write { db in
            try db.execute(sql: """
                INSERT INTO access_tokens (token_id, secret_hash, kind, member_id, project_id, created_at)
                VALUES ('tok_forged', ?, 'engine', NULL, 'acme', '2026-01-01T00:00:00.000000Z')
                """, arguments: [Data(forged)])
        }
        let verified = try await log.database.read { db in
            try AccessTokens.verify("clt_tok_forged_" + secret, key: log.keys.accessTokenKey, db)
        }
        #expect(verified == nil)

        // A token issued by credlog verifies, and its issue and revocation are in the chain.
        let (token, tokenId) = try await log.issueToken(member: nil)
        #expect(try await log.database.read { db in try AccessTokens.verify(token, key: log.keys.accessTokenKey, db) }?.tokenId == tokenId)
        try await log.revokeToken(tokenId)
        #expect(try await log.database.read { db in try AccessTokens.verify(token, key: log.keys.accessTokenKey, db) } == nil)
        let events = try await log.store.readStream(.project("acme"), from: 1)
        #expect(Array(events.map(\.type).suffix(2)) == ["project.token-issued", "project.token-revoked"])
        #expect(events.suffix(2).allSatisfy { $0.actor.id == "system" }, "recorded as the operator's act")
        let secretPart = String(token.split(separator: "_").last ?? "")
        #expect(!(try await log.storedBytes()).contains(bytes: Array(secretPart.utf8)), "the token's secret is stored nowhere")
    }
}

/// Deleting a connection overwrites its keys at once and truncates the WAL only if no reader
/// holds an older snapshot: it never waits for a slow reader, nor makes every writer wait.
@Suite("Deleting beside a slow reader", .serviceScope)
struct DeleteBesideReaderTests {
    @Test func aDeleteFinishesWhileAReaderHoldsAnOldSnapshot() async throws {
        let log = try await TemporaryLog()
        try await log.seedProject()
        var secret = Array(#"{"apiKey":"doomed"}"#.utf8)
        let created = try await log.service.createConnection(projectId: "acme", piece: "acme-crm", authType: .apiKey, name: "C",
                                                             credentials: &secret, context: CommandContext(principal: .member("bob")))
        let id = try #require(created.stream.connectionId)
        // A reader on its own thread opens a snapshot and keeps it until the delete is done.
        let holding = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        let pool = log.pool
        Thread.detachNewThread {
            try? pool.read { db in
                _ = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events")
                holding.signal()
                release.wait()
            }
        }
        holding.wait()
        let started = ContinuousClock.now
        _ = try await log.service.delete(id, context: CommandContext(principal: .member("alice")))
        let took = ContinuousClock.now - started
        release.signal()
        // Before, the checkpoint waited out SQLite's busy timeout (30 s) holding the writer.
        #expect(took < .seconds(15), "the delete waited \(took) for the reader")
        #expect(try await log.database.read { db in try db.fetchValue(sql: "SELECT COUNT(*) FROM data_keys WHERE connection_id = ?", arguments: [id]) ?? -1 } == 0)
    }
}
