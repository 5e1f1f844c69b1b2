import ArgumentParser
import CredlogEvents
import Foundation

struct KeysGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Manage the master key.", subcommands: [Rotate.self])

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Introduce a new master key and re-wrap every data key under it; old events stay readable.",
            discussion: """
                With a key file, the new key replaces it (written first as KEYFILE.next, so an interrupted \
                rotation completes on the next run). With CREDLOG_MASTER_KEY, pass --new-key-file: the new \
                key is written there, and CREDLOG_MASTER_KEY must then be set to it.
                """)

        @Option(help: "Where to write the new key when the current one comes from CREDLOG_MASTER_KEY.")
        var newKeyFile: String?
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await reportingErrors {
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
                if options.json {
                    try Output.json(["previousKeyId": old.id, "keyId": new.id, "rewrappedDataKeys": String(rewrapped),
                                     "keyFile": fromEnvironment ? staging : options.keyFile])
                } else {
                    Output.line("rotated master key \(old.id) -> \(new.id); re-wrapped \(rewrapped) data keys")
                    if fromEnvironment { Output.line("the new key is in \(staging): set CREDLOG_MASTER_KEY to its content") }
                }
            }
        }
    }
}
