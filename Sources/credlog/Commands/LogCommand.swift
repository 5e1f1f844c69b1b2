import ArgumentParser
import CredlogDomain
import CredlogEvents

struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Print the event log (secrets only as fingerprints).",
        discussion: "With --as, only the events of projects that member belongs to are shown.")

    @Option(help: "Start at this position.") var from: Int64 = 1
    @Option(help: "Only this stream: a connection id, or a stream id such as project:acme.") var stream: String?
    @Option(help: "Only this project.") var project: String?
    @Option(help: "At most this many events.") var limit: Int?
    @OptionGroup var options: GlobalOptions

    func validate() throws {
        guard from >= 1 else { throw ValidationError("--from is a position, 1 or more") }
        if let limit, limit < 1 { throw ValidationError("--limit is 1 or more") }
    }

    func run() async throws {
        let workspace = try await Workspace.open(options)
        let visible = try await workspace.queries.visibleProjects(for: .init(try options.optionalPrincipal())).map(Set.init)
        var entries: [LogEntryView] = []
        let wanted = stream.map { $0.contains(":") ? StreamID($0) : StreamID.connection($0) }
        var position = from
        reading: while true {
            let batch = try await workspace.store.readAll(from: position, limit: 1000)
            guard let last = batch.last else { break }
            position = last.position + 1
            for event in batch {
                if let wanted, event.stream != wanted { continue }
                if let project, event.projectId != project { continue }
                if let visible, !visible.contains(event.projectId) { continue }
                entries.append(try LogEntryView(event))
                if let limit, entries.count >= limit { break reading }
            }
        }
        if options.json { return try Output.json(entries) }
        Output.table(["POS", "RECORDED AT", "STREAM", "V", "TYPE", "ACTOR", "DATA"], entries.map {
            [String($0.position), Output.time($0.recordedAt), $0.stream, String($0.streamVersion), $0.type,
             "\($0.actor) (\($0.actorRole))", $0.summary]
        })
    }
}
