import ArgumentParser
import CredlogDomain
import CredlogEvents
import Foundation

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .customLong("db"), help: ArgumentHelp(
        "The database: a SQLite file, or postgres://user@host:port/dbname (default: $CREDLOG_DB, else ./credlog.sqlite).",
        valueName: "path|url"))
    var databasePath: String?

    @Option(name: .customLong("as"), help: ArgumentHelp("Act as this member, or as 'system' or 'engine' (default: $CREDLOG_ACTOR).", valueName: "member"))
    var actor: String?

    @Option(name: .customLong("key-file"), help: ArgumentHelp(
        "The master key file (default: $CREDLOG_KEY_FILE, else the database path with .key). CREDLOG_MASTER_KEY overrides it.",
        valueName: "path"))
    var keyFilePath: String?

    @Flag(help: "Print machine-readable JSON.")
    var json = false

    var environment: [String: String] { ProcessInfo.processInfo.environment }

    var database: String {
        databasePath ?? environment["CREDLOG_DB"].flatMap { $0.isEmpty ? nil : $0 } ?? "./credlog.sqlite"
    }

    /// The SQLite file or PostgreSQL database `--db` names.
    func location() throws -> StoreLocation { try StoreLocation(database, environment: environment) }

    var keyFile: String {
        if let path = keyFilePath ?? environment["CREDLOG_KEY_FILE"].flatMap({ $0.isEmpty ? nil : $0 }) { return path }
        if case .postgres(let postgres)? = try? location() { return "./\(postgres.database).key" }
        let url = URL(fileURLWithPath: database)
        return url.pathExtension.isEmpty ? database + ".key" : url.deletingPathExtension().path + ".key"
    }

    /// Who is acting; a usage error when nobody said.
    func principal() throws -> Principal {
        guard let name = actor ?? environment["CREDLOG_ACTOR"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            throw CLIError.usage("say who is acting: --as MEMBER (or system, engine), or set CREDLOG_ACTOR")
        }
        return try Principal(name)
    }

    /// The decision time: now, or `$CREDLOG_CLOCK` (ISO 8601) for scripted histories and imports.
    /// The log never records a time earlier than the event before.
    func now() throws -> Timestamp {
        guard let text = environment["CREDLOG_CLOCK"], !text.isEmpty else { return .now() }
        guard let time = Timestamp(iso8601: text) else {
            throw CLIError.usage("CREDLOG_CLOCK is not an ISO 8601 time, such as 2026-11-02T10:05:00Z")
        }
        return time
    }

    /// The context of an operator's action, recorded as `system`.
    func operatorContext() throws -> CommandContext {
        CommandContext(principal: .system, now: try now())
    }

    /// The acting principal when one was given.
    func optionalPrincipal() throws -> Principal? {
        actor ?? environment["CREDLOG_ACTOR"].flatMap({ $0.isEmpty ? nil : $0 }) == nil ? nil : try principal()
    }
}

/// Options of commands that change something.
struct CommandOptions: ParsableArguments {
    @Option(help: "Retrying with the same key appends nothing new and prints the first result.")
    var idempotencyKey: String?

    @Option(help: "Ties this command's events to others, such as a flow run id.")
    var correlationId: String?

    func validate() throws {
        for (value, option) in [(idempotencyKey, "--idempotency-key"), (correlationId, "--correlation-id")] {
            guard let value else { continue }
            do { _ = try RequestTag.validate(value, what: option) } catch { throw ValidationError(error.description) }
        }
    }
}
