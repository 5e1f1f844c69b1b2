import ArgumentParser
import CredlogEvents
import CredlogProjections
import Foundation

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a database and its master key file (mode 0600).",
        discussion: "With CREDLOG_MASTER_KEY set, that key is used and no key file is written.")

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let location = try options.location()
        let path = location.description
        if case .sqlite(let file) = location, FileManager.default.fileExists(atPath: file) {
            throw KeyError.alreadyInitialised(path: path)
        }
        let database = try await CredlogDatabase.open(location, create: true)
        let keyring: Int = try await database.read { db in try db.fetchValue(sql: "SELECT COUNT(*) FROM keyring") ?? 0 }
        if keyring > 0 { throw KeyError.alreadyInitialised(path: path) }
        let fromEnvironment = options.environment["CREDLOG_MASTER_KEY"].map { !$0.isEmpty } ?? false
        let masterKey = fromEnvironment ? try MasterKey.load(environment: options.environment, keyFile: options.keyFile)
                                        : MasterKey.generate()
        if !fromEnvironment { try KeyFile.write(masterKey, to: options.keyFile) }
        _ = try await KeyRing.create(in: database, masterKey: masterKey, path: path)
        try await ProjectionRunner(database: database).prepare()
        if options.json {
            try Output.json(["database": path, "masterKeyId": masterKey.id,
                             "keyFile": fromEnvironment ? "CREDLOG_MASTER_KEY" : options.keyFile])
        } else {
            let keyPlace = fromEnvironment ? "from CREDLOG_MASTER_KEY" : "in \(options.keyFile) (mode 0600)"
            Output.line("initialised \(path); master key \(masterKey.id) \(keyPlace)")
        }
    }
}
