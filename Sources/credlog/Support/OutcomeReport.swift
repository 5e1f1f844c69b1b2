import CredlogDomain
import CredlogEvents

/// How a command's outcome is shown.
struct OutcomeReport: Encodable {
    var stream: String
    var changed: Bool
    var replayed: Bool
    var firstPosition: Int64?
    var lastPosition: Int64?
    var streamVersion: Int64

    init(_ outcome: CommandOutcome) {
        stream = outcome.stream.rawValue
        changed = !outcome.changedNothing
        replayed = outcome.replayed
        firstPosition = outcome.firstPosition
        lastPosition = outcome.lastPosition
        streamVersion = outcome.streamVersion
    }

    /// Prints `done` (or that nothing changed) for people, or the report as JSON.
    static func print(_ outcome: CommandOutcome, done: String, unchanged: String, json: Bool) throws {
        let report = OutcomeReport(outcome)
        if json { return try Output.json(report) }
        guard let first = report.firstPosition, let last = report.lastPosition else {
            return Output.line("no change: \(unchanged)")
        }
        let at = first == last ? "position \(first)" : "positions \(first)-\(last)"
        Output.line("\(done) (\(at)\(report.replayed ? ", replayed from the first attempt" : ""))")
    }
}

extension GlobalOptions {
    /// Opens the workspace, runs one command as the acting principal, and prints its outcome
    /// (`done`, or `unchanged` when it appended nothing); errors go up to ``Credlog/exit(reporting:)``.
    func execute(_ command: CommandOptions, done: String, unchanged: String,
                 _ body: (CommandService, CommandContext) async throws -> CommandOutcome) async throws {
        let workspace = try await Workspace.open(self)
        let outcome = try await body(workspace.service, try workspace.context(self, command))
        try OutcomeReport.print(outcome, done: done, unchanged: unchanged, json: json)
    }
}
