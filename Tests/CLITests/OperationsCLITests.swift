import CredlogTestSupport
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// `credlog serve --log-format json` for log shippers, and the shell completions.
@Suite("Operating from the command line")
struct OperationsCLITests {
    @Test func theJSONLogIsAnObjectPerLineWithEachRequestsStatusAndDuration() async throws {
        let cli = try CLI()
        #expect(try cli.run(["init"]).status == 0)
        let server = try CLIHardeningTests.serve(cli, ["--log-format", "json"])
        defer { if server.process.isRunning { server.process.terminate() } }
        var request = URLRequest(url: URL(string: "\(server.url)/health/ready")!)
        request.timeoutInterval = 120
        let (_, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        server.process.terminate()
        server.process.waitUntilExit()
        let lines = String(decoding: FileManager.default.contents(atPath: server.stderr.path) ?? Data(), as: UTF8.self)
            .split(separator: "\n")
        let entries = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String] }
        #expect(!lines.isEmpty && entries.count == lines.count, "every line is a JSON object: \(lines)")
        let logged = try #require(entries.first { $0["message"] == "Request" && $0["hb.request.path"] == "/health/ready" })
        #expect(logged["hb.response.status"] == "200" && Double(logged["credlog.duration_ms"] ?? "") != nil)
        #expect(logged["level"] == "info" && logged["label"] == "credlog" && logged["time"]?.hasSuffix("Z") == true)
    }

    /// The scrape token comes from a file; a short or unreadable one stops `serve` before it
    /// listens, and its content is never echoed.
    @Test func aMetricsTokenFileThatIsShortOrMissingIsAClearUsageError() throws {
        let cli = try CLI()
        #expect(try cli.run(["init"]).status == 0)
        let short = cli.directory.appendingPathComponent("short.token")
        try "SENTINEL-short-token".write(to: short, atomically: true, encoding: .utf8)
        let refused = try cli.run(["serve", "--port", "0", "--metrics-token-file", short.path])
        #expect(refused.status == 64 && refused.stderr.contains("32 to 4096 printable ASCII characters"))
        #expect(!refused.stderr.contains("SENTINEL") && !refused.stdout.contains("SENTINEL"))
        let missing = try cli.run(["serve", "--port", "0", "--metrics-token-file", cli.directory.appendingPathComponent("none").path])
        #expect(missing.status == 64 && missing.stderr.contains("cannot read"))
    }

    @Test func completionScriptsAreGeneratedForBashZshAndFish() throws {
        let cli = try CLI()
        for (shell, marker) in [("bash", "_credlog"), ("zsh", "#compdef credlog"), ("fish", "complete -c 'credlog'")] {
            let script = try cli.run(["--generate-completion-script", shell])
            #expect(script.status == 0 && script.stdout.contains(marker) && script.stdout.contains("token"), "\(shell)")
            if shell == "bash" {
                let file = cli.directory.appendingPathComponent("credlog.bash")
                try script.stdout.write(to: file, atomically: true, encoding: .utf8)
                let check = Process()
                check.executableURL = URL(fileURLWithPath: "/bin/bash")
                check.arguments = ["-n", file.path]
                try check.run()
                check.waitUntilExit()
                #expect(check.terminationStatus == 0, "bash parses its completion script")
            }
        }
    }
}
