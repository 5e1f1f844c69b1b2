import ArgumentParser
import CredlogEvents
import Foundation

struct KeysGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Manage the master key.", subcommands: [Rotate.self, Reseal.self])

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Introduce a new master key, re-wrap every data key under it, and seal current credentials again under new data keys.",
            discussion: """
                With a key file, the new key replaces it (written first as KEYFILE.next, so an interrupted \
                rotation completes on the next run). With CREDLOG_MASTER_KEY, pass --new-key-file: the new \
                key is written there, and CREDLOG_MASTER_KEY must then be set to it.

                Every data key is retired: credentials set from now on get new ones, wrapped under the new \
                master key only. Then each connection's current credential is sealed again under a new key \
                (`connection.credentials-resealed`, same fingerprint) and its retired key destroyed, so an \
                old backup opened with the old master key yields nothing set after the rotation. \
                `credlog keys reseal` finishes an interrupted pass. Project secrets (OAuth2 client secrets, \
                webhook secrets) keep their retired keys until they are registered again.
                """)

        @Option(help: "Where to write the new key when the current one comes from CREDLOG_MASTER_KEY.")
        var newKeyFile: String?
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let workspace = try await Workspace.open(options)
            let old = workspace.keys.masterKey
            let new = MasterKey.generate()
            let fromEnvironment = options.environment["CREDLOG_MASTER_KEY"].map { !$0.isEmpty } ?? false
            let staging: String
            if fromEnvironment {
                guard let newKeyFile else {
                    throw CLIError.usage("the master key comes from CREDLOG_MASTER_KEY: pass --new-key-file PATH for the new key")
                }
                staging = newKeyFile
                try KeyFile.write(new, to: staging)
            } else {
                staging = options.keyFile + ".next"
                try KeyFile.write(new, to: staging, replace: true)
            }
            let rewrapped = try await KeyRing.rotate(workspace.database, from: old, to: new)
            if !fromEnvironment, rename(staging, options.keyFile) != 0 {
                throw KeyError.cannotWriteKeyFile(path: options.keyFile, reason: String(cString: strerror(errno)))
            }
            let keys = try await KeyRing.unlock(workspace.database, masterKey: new)
            let resealed = try await Reseal.all(Workspace.open(workspace.database, keys: keys, http: workspace.http), options)
            if options.json {
                try Output.json(["previousKeyId": old.id, "keyId": new.id, "rewrappedDataKeys": String(rewrapped),
                                 "resealedConnections": String(resealed), "keyFile": fromEnvironment ? staging : options.keyFile])
            } else {
                Output.line("rotated master key \(old.id) -> \(new.id); re-wrapped \(rewrapped) data keys; "
                            + "resealed \(resealed) connections under new data keys")
                if fromEnvironment { Output.line("the new key is in \(staging): set CREDLOG_MASTER_KEY to its content") }
            }
        }
    }

    struct Reseal: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Seal again, under new data keys, every current credential whose key a rotation retired.",
            discussion: "`keys rotate` does this itself; run it to finish a pass that was interrupted.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let resealed = try await Self.all(try await Workspace.open(options), options)
            if options.json { return try Output.json(["resealedConnections": String(resealed)]) }
            Output.line("resealed \(resealed) connections under new data keys")
        }

        /// Reseals every connection that needs it; returns how many did. Then makes the space of
        /// the destroyed keys unreadable.
        static func all(_ workspace: Workspace, _ options: GlobalOptions) async throws -> Int {
            let ids = try await workspace.database.read { db in
                try db.fetchAll(sql: "SELECT id FROM connections ORDER BY id").map { try $0[0] as String }
            }
            var resealed = 0
            for id in ids where try await !workspace.service.reseal(id, context: try options.operatorContext()).changedNothing {
                resealed += 1
            }
            if resealed > 0 { try await workspace.service.vault.purgeShreddedKeys() }
            return resealed
        }
    }
}
