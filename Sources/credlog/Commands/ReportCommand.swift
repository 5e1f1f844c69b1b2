import ArgumentParser
import CredlogEvents
import CredlogProjections
import Foundation

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a report: connections, flow-usage, status-history or audit (columns documented in the README).",
        discussion: "--as-of replays the log up to that time first, so the report is as at that moment.")
    @Argument(help: "connections, flow-usage, status-history or audit.") var report: Report
    @Option(help: "As at this time (ISO 8601).") var asOf: Timestamp?
    @Option(help: "table, csv, json or jsonl (--json is --format json).") var format: ReportFormat = .table
    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let workspace = try await Workspace.open(options)
        let projects = try await workspace.queries.visibleProjects(for: .init(try options.optionalPrincipal()))
        let chosen = options.json ? ReportFormat.json : format
        try await report.write(chosen, of: workspace.database, asOf: asOf, projects: projects) { text in
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }
}

extension Report: ExpressibleByArgument {}
extension ReportFormat: ExpressibleByArgument {}
