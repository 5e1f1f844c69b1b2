import CredlogTestSupport
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// The command line against whoever shares the machine, hostile report readers, and its own crashes.
@Suite("Command line hardening")
struct CLIHardeningTests {
    static func mode(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    /// Starts `credlog serve` on a free port; returns it, its URL and the file its errors go to.
    static func serve(_ cli: CLI, _ extra: [String] = []) throws -> (process: Process, url: String, stderr: URL) {
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = ["serve", "--port", "0"] + extra
        process.currentDirectoryURL = cli.directory
        process.environment = cli.environment
        let output = Pipe()
        let errors = cli.directory.appendingPathComponent("serve.err")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        process.standardOutput = output
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        var printed = Data()
        while !String(decoding: printed, as: UTF8.self).contains("\n") {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            printed += chunk
        }
        let text = String(decoding: printed, as: UTF8.self)
        guard let range = text.range(of: #"http://127\.0\.0\.1:[0-9]+"#, options: .regularExpression) else {
            process.terminate()
            throw CLIHardeningError("serve printed no URL: \(text)")
        }
        return (process, String(text[range]), errors)
    }

    @Test func filesAreTheOwnersOnlyAndACrashPrintsNoMemory() async throws {
        let cli = try CLI()
        #expect(try cli.run(["init"]).status == 0)
        #expect(Self.mode(cli.databasePath) == 0o600, "the database")
        #expect(Self.mode(cli.directory.appendingPathComponent("credlog.key").path) == 0o600, "the key file")
        #expect(try cli.run(["project", "create", "acme", "--admin", "alice"]).status == 0)
        let sentinel = "SENTINEL-crash-\(UUID().uuidString)"
        let id = try cli.run(["connection", "create", "--project", "acme", "--piece", "hubspot", "--auth", "api-key", "--name", "HubSpot",
                              "--credentials-stdin", "--as", "alice"], stdin: #"{"apiKey":"\#(sentinel)"}"#)
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let token = try cli.run(["token", "create", "--engine", "--project", "acme"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)

        let server = try Self.serve(cli)
        defer { if server.process.isRunning { server.process.terminate() } }
        // The engine reads the credential: the secret has been in the server's memory.
        var request = URLRequest(url: URL(string: "\(server.url)/v1/connections/\(id)/credentials")!)
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.timeoutInterval = 120
        let (body, _) = try await URLSession.shared.data(for: request)
        #expect(String(decoding: body, as: UTF8.self).contains(sentinel))
        for suffix in ["-wal", "-shm"] {
            #expect(Self.mode(cli.databasePath + suffix) == 0o600, "credlog.sqlite\(suffix) while the server runs")
        }

        kill(server.process.processIdentifier, SIGSEGV)
        server.process.waitUntilExit()
        let printed = String(decoding: FileManager.default.contents(atPath: server.stderr.path) ?? Data(), as: UTF8.self)
        #expect(server.process.terminationStatus == 70, "\(server.process.terminationReason)")
        #expect(printed.contains("credlog: crashed"))
        #expect(!printed.contains(sentinel) && !printed.contains("rip ") && !printed.contains("Registers"), "no memory: \(printed.suffix(300))")
        #expect(!FileManager.default.fileExists(atPath: cli.directory.appendingPathComponent("core").path), "no core dump")
    }

    @Test func reportCellsThatASpreadsheetWouldRunAsFormulasStayText() throws {
        let cli = try CLI()
        #expect(try cli.run(["init"]).status == 0)
        #expect(try cli.run(["project", "create", "acme", "--admin", "alice"]).status == 0)
        for name in ["=HYPERLINK(\"http://x\",\"click\")", "+1+1", "-2+3", "@SUM(A1)"] {
            #expect(try cli.run(["connection", "create", "--project", "acme", "--piece", "hubspot", "--auth", "api-key", "--name=" + name,
                                 "--credentials-stdin", "--as", "alice"], stdin: #"{"apiKey":"k"}"#).status == 0)
        }
        let csv = try cli.run(["report", "connections", "--format", "csv", "--as", "alice"]).stdout
        let cells = csv.split(separator: "\r\n").dropFirst().flatMap { $0.split(separator: ",").map(String.init) }
        #expect(cells.allSatisfy { !"=+-@".contains($0.first ?? " ") && !(($0.first == "\"") && "=+-@".contains($0.dropFirst().first ?? " ")) },
                "\(csv)")
        #expect(csv.contains("'+1+1") && csv.contains("'@SUM(A1)") && csv.contains("\"'=HYPERLINK") && csv.contains("'-2+3"))
    }

    @Test func oversizedTagsAreUsageErrorsThatAppendNothing() throws {
        let cli = try CLI()
        #expect(try cli.run(["init"]).status == 0)
        let result = try cli.run(["project", "create", "acme", "--admin", "alice", "--correlation-id", String(repeating: "c", count: 5000)])
        #expect(result.status == 64 && result.stderr.contains("--correlation-id"))
        #expect(try cli.eventCount() == 0)
    }
}

struct CLIHardeningError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
