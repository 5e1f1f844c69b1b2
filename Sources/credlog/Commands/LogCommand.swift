import Foundation
import ArgumentParser
import CredlogDomain
import CredlogEvents
import CredlogProjections

struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Print the event log (secrets only as fingerprints).",
        discussion: """
            With --as, only the events of projects that member belongs to are shown. With --follow, \
            the events are printed as they are appended, one line each (--json: one JSON object \
            per line), until Ctrl-C or --limit; appends by other processes show within a second.
            """)

    @Option(help: "Start at this position.") var from: Int64 = 1
    @Option(help: "Only this stream: a connection id, or a stream id such as project:acme.") var stream: String?
    @Option(help: "Only this project.") var project: String?
    @Option(help: "At most this many events.") var limit: Int?
    @Flag(help: "Keep printing events as they are appended.") var follow = false
    @OptionGroup var options: GlobalOptions

    func validate() throws {
        guard from >= 1 else { throw ValidationError("--from is a position, 1 or more") }
        if let limit, limit < 1 { throw ValidationError("--limit is 1 or more") }
    }

    func run() async throws {
        let workspace = try await Workspace.open(options)
        let reader = QueryService.Reader(try options.optionalPrincipal(), projectScope: project)
        let wanted = stream.map { $0.contains(":") ? StreamID($0) : StreamID.connection($0) }
        if follow { return try await self.follow(workspace, reader: reader, stream: wanted) }
        // Page by page through the feed: the projects the reader sees, read through their index.
        var entries: [LogEntry] = []
        var feed = EventFeed(after: from - 1, limit: min(limit ?? EventFeed.maxLimit, EventFeed.maxLimit), stream: wanted)
        while true {
            let page = try await workspace.queries.events(feed, for: reader)
            entries += page.events
            if page.events.count < feed.limit { break }
            if let limit {
                guard entries.count < limit else { break }
                feed.limit = min(limit - entries.count, EventFeed.maxLimit)
            }
            feed.after = page.nextAfter
        }
        if options.json { return try Output.json(entries) }
        Output.table(["POS", "RECORDED AT", "STREAM", "V", "TYPE", "ACTOR", "DATA"], entries.map {
            [String($0.position), Output.time($0.recordedAt), $0.stream, String($0.streamVersion), $0.type,
             "\($0.actor) (\($0.actorRole))", $0.summary]
        })
    }

    /// Prints each event the reader sees as it is appended, one line each, until cancelled or `--limit`.
    private func follow(_ workspace: Workspace, reader: QueryService.Reader, stream wanted: StreamID?) async throws {
        let visible = try await workspace.queries.visibleProjects(for: reader).map(Set.init)
        let shown = { (event: RecordedEvent) in (wanted == nil || event.stream == wanted) && (visible?.contains(event.projectId) ?? true) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var printed = 0
        for try await event in workspace.store.subscribe(from: from, pollInterval: .seconds(1)) where shown(event) {
            let entry = try LogEntry(event)
            if options.json {
                Output.line(String(decoding: try encoder.encode(entry), as: UTF8.self))
            } else {
                Output.line([String(entry.position), Output.time(entry.recordedAt), entry.stream, "v\(entry.streamVersion)", entry.type,
                             "\(entry.actor) (\(entry.actorRole))", entry.summary].joined(separator: "  "))
            }
            printed += 1
            if let limit, printed >= limit { return }
        }
    }
}
