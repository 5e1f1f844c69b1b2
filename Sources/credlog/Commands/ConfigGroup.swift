import ArgumentParser
import Foundation

/// `credlog config check`: what `credlog serve` would run with, and where each setting comes from.
struct ConfigGroup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Check the settings of `credlog serve`.", subcommands: [ConfigCheckCommand.self])
}

struct ConfigCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Resolve the settings of `credlog serve` from its flags, the environment and a settings file, and check them.",
        discussion: """
            Prints each setting, its value and its source (flag, environment, file or default); a \
            database URL without its password. Exits 64 with every problem found: a value that does \
            not parse or is out of range, a key of the file that is not a setting, an unreadable \
            metrics token file. Takes the same options as `credlog serve`.
            """)
    @Option(help: ArgumentHelp("The JSON settings file `credlog serve --config` would read.", valueName: "file"))
    var config: String?
    @OptionGroup var flags: ServeFlags
    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let resolution = try await ServeSettings.load(config: config, flags: flags, options: options)
        let (shown, problems) = (resolution.shown, resolution.problems)
        if options.json {
            try Output.json(Report(settings: shown.map { .init(key: $0.key, value: $0.value, source: $0.source.description) },
                                   problems: problems))
        } else {
            Output.table(["SETTING", "VALUE", "SOURCE"], shown.map { [$0.key, $0.value, $0.source.description] })
        }
        guard problems.isEmpty else {
            throw CLIError.usage(problems.count == 1 ? problems[0] : "\(problems.count) problems: " + problems.joined(separator: "; "))
        }
    }

    /// `--json`: the settings and the problems.
    struct Report: Encodable {
        struct Setting: Encodable {
            var key: String
            var value: String
            var source: String
        }
        var settings: [Setting]
        var problems: [String]
    }
}
