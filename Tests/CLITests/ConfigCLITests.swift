import CredlogTestSupport
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// `credlog serve --config FILE`, the environment and the flags, in that order of precedence;
/// `credlog config check` shows the outcome and refuses what is wrong without running anything.
@Suite("Settings of credlog serve")
struct ConfigCLITests {
    struct Check: Decodable {
        struct Setting: Decodable {
            var key: String
            var value: String
            var source: String
        }
        var settings: [Setting]
        var problems: [String]

        func setting(_ key: String) -> Setting? { settings.first { $0.key == key } }
    }

    static func write(_ json: String, in cli: CLI, name: String = "credlog.json") throws -> String {
        let file = cli.directory.appendingPathComponent(name)
        try json.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    static func check(_ cli: CLI, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, check: Check?, stderr: String) {
        let result = try cli.run(["config", "check", "--json"] + arguments, environment: environment)
        return (result.status, try? JSONDecoder().decode(Check.self, from: Data(result.stdout.utf8)), result.stderr)
    }

    @Test func aFlagWinsOverTheEnvironmentWhichWinsOverTheFile() throws {
        let cli = try CLI()
        let fromFile = cli.directory.appendingPathComponent("from-file.sqlite").path
        let file = try Self.write(#"{"port": 7001, "log-format": "json", "session-idle-timeout": "45m", "db": "\#(fromFile)", "allow-private-destinations": true}"#, in: cli)

        let fileOnly = try Self.check(cli, ["--config", file], environment: ["CREDLOG_DB": ""])
        #expect(fileOnly.status == 0, "\(fileOnly.stderr)")
        let settings = try #require(fileOnly.check)
        #expect(settings.problems.isEmpty)
        #expect(settings.setting("port")?.value == "7001" && settings.setting("port")?.source == "file (\(file))")
        #expect(settings.setting("log-format")?.value == "json" && settings.setting("session-idle-timeout")?.value == "45m")
        #expect(settings.setting("db")?.value == fromFile && settings.setting("allow-private-destinations")?.value == "true")
        #expect(settings.setting("host")?.value == "127.0.0.1" && settings.setting("host")?.source == "default")

        let environment = try #require(try Self.check(cli, ["--config", file], environment: ["CREDLOG_PORT": "7002"]).check)
        #expect(environment.setting("port")?.value == "7002" && environment.setting("port")?.source == "environment (CREDLOG_PORT)")
        #expect(environment.setting("db")?.value == cli.databasePath, "CREDLOG_DB wins over the file's db")
        #expect(environment.setting("log-format")?.source == "file (\(file))", "the rest still from the file")

        let flag = try #require(try Self.check(cli, ["--config", file, "--port", "7003"], environment: ["CREDLOG_PORT": "7002"]).check)
        #expect(flag.setting("port")?.value == "7003" && flag.setting("port")?.source == "flag")
    }

    /// The file's `log-format: json` reaches the running server; the environment overrides it.
    @Test func serveRunsWithTheFilesSettingsUnlessTheEnvironmentSaysOtherwise() async throws {
        var cli = try CLI()
        #expect(try cli.run(["init"]).status == 0)
        let file = try Self.write(#"{"log-format": "json", "max-projection-lag": 5}"#, in: cli)
        for (variable, expectJSON) in [(nil, true), ("text", false)] as [(String?, Bool)] {
            cli.environment["CREDLOG_LOG_FORMAT"] = variable
            let server = try CLIHardeningTests.serve(cli, ["--config", file])
            var request = URLRequest(url: URL(string: "\(server.url)/health/ready")!)
            request.timeoutInterval = 120
            _ = try await URLSession.shared.data(for: request)
            server.process.terminate()
            server.process.waitUntilExit()
            let lines = String(decoding: FileManager.default.contents(atPath: server.stderr.path) ?? Data(), as: UTF8.self)
                .split(separator: "\n")
            let objects = lines.filter { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) is [String: Any] }
            #expect(!lines.isEmpty && (objects.count == lines.count) == expectJSON, "\(variable ?? "file"): \(lines)")
        }
    }

    @Test func everyProblemIsNamedWithItsSourceAndNothingRuns() throws {
        let cli = try CLI()
        #expect(try cli.run(["init"]).status == 0)
        let file = try Self.write(#"""
            {"prot": 8080, "port": "SENTINEL-not-a-port", "session-lifetime": "1m",
             "db": "postgres://alice:SENTINEL-PASSWORD@127.0.0.1:1/credlog"}
            """#, in: cli)
        let checked = try Self.check(cli, ["--config", file], environment: ["CREDLOG_DB": "", "CREDLOG_IDLE_TIMEOUT": "forever"])
        #expect(checked.status == 64)
        let problems = try #require(checked.check?.problems)
        #expect(problems.contains("prot in the settings file is not a setting of credlog serve"))
        #expect(problems.contains { $0.hasPrefix("port in the file (\(file)) is not a valid value") })
        #expect(problems.contains { $0.hasPrefix("idle-timeout in the environment (CREDLOG_IDLE_TIMEOUT) is not a valid value") })
        #expect(problems.contains("session-lifetime is session-idle-timeout to 30d"))
        #expect(checked.check?.setting("db")?.value == "postgres://alice@127.0.0.1:1/credlog", "the URL without its password")
        #expect(!checked.stderr.contains("SENTINEL") && !(checked.check.map { "\($0)" } ?? "").contains("SENTINEL"))

        // serve refuses the same file before opening anything: no database is created.
        let serve = try cli.run(["serve", "--config", file], environment: ["CREDLOG_DB": cli.directory.appendingPathComponent("never.sqlite").path])
        #expect(serve.status == 64 && serve.stderr.contains("prot in the settings file is not a setting"))
        #expect(!serve.stderr.contains("SENTINEL") && !serve.stdout.contains("SENTINEL"))
        #expect(!FileManager.default.fileExists(atPath: cli.directory.appendingPathComponent("never.sqlite").path))

        // A file that is not JSON is named, not quoted.
        let garbage = try Self.write("port = SENTINEL-toml\n", in: cli, name: "credlog.toml")
        let refused = try cli.run(["config", "check", "--config", garbage])
        #expect(refused.status == 64 && refused.stderr.contains("not a JSON object of settings") && !refused.stderr.contains("SENTINEL"))
        let missing = try cli.run(["config", "check", "--config", cli.directory.appendingPathComponent("none.json").path])
        #expect(missing.status == 64 && missing.stderr.contains("cannot read it"))
    }
}
