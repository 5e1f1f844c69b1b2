import ArgumentParser
import CredlogEvents
import CredlogProjections
import Foundation
import GRDB

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
        try await reportingErrors {
            let workspace = try Workspace.open(options)
            let projects = try workspace.visibleProjects(try options.optionalPrincipal())
            var source = workspace.database
            var scratch: URL?
            if let asOf {
                let directory = FileManager.default.temporaryDirectory.appendingPathComponent("credlog-report-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                scratch = directory
                let path = directory.appendingPathComponent("as-of.sqlite").path
                _ = try Replayer.replay(from: workspace.database, until: asOf, into: path)
                source = try CredlogDatabase.open(path: path)
            }
            defer { if let scratch { try? FileManager.default.removeItem(at: scratch) } }
            let rows = try await source.read { db in try report.rows(db, projects: projects) }
            let chosen = options.json ? ReportFormat.json : format
            FileHandle.standardOutput.write(Data(try chosen.render(columns: report.columns, rows: rows).utf8))
        }
    }
}

extension Report: ExpressibleByArgument {}
extension ReportFormat: ExpressibleByArgument {}
