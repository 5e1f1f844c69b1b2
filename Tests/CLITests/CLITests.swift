import CredlogTestSupport
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// A project with an admin (alice) and a member (bob), through the CLI.
func seededCLI() throws -> CLI {
    let cli = try CLI()
    #expect(try cli.run(["init"]).status == 0)
    #expect(try cli.run(["project", "create", "acme", "--admin", "alice"]).status == 0)
    #expect(try cli.run(["member", "add", "bob", "--project", "acme", "--as", "alice"]).status == 0)
    return cli
}

/// Creates a connection through the CLI and returns its id.
func createConnection(_ cli: CLI, name: String = "Gmail - Support", auth: String = "api-key",
                      credentials: String = #"{"apiKey":"k-1"}"#, as actor: String = "bob") throws -> String {
    let result = try cli.run(["connection", "create", "--project", "acme", "--piece", "acme-crm", "--auth", auth, "--name", name,
                              "--credentials-stdin", "--as", actor], stdin: credentials)
    #expect(result.status == 0, "\(result.stderr)")
    return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
}

@Suite("Command line")
struct CLITests {
    @Test func aPlantedSentinelSecretAppearsNowhere() throws {
        let cli = try seededCLI()
        let sentinel = "SENTINEL-7f3a9c2e-never-print-me"
        var seen: [CLI.Result] = []
        func run(_ args: [String], stdin: String? = nil) throws -> CLI.Result {
            let result = try cli.run(args, stdin: stdin)
            seen.append(result)
            return result
        }
        let id = try createConnection(cli, credentials: #"{"apiKey":"\#(sentinel)"}"#)
        _ = try run(["connection", "create", "--project", "acme", "--piece", "smtp", "--auth", "basic", "--name", "Mail",
                     "--credentials-stdin", "--as", "bob"], stdin: #"{"username":"u","password":"\#(sentinel)-2"}"#)
        _ = try run(["connection", "reconnect", id, "--credentials-stdin", "--as", "alice"], stdin: #"{"apiKey":"\#(sentinel)-3"}"#)
        // Bad input carrying the sentinel: the errors must not quote it.
        #expect(try run(["connection", "reconnect", id, "--credentials-stdin", "--as", "alice"], stdin: #"{"apiKey":"\#(sentinel)""#).status == 65)
        #expect(try run(["connection", "reconnect", id, "--credentials-stdin", "--as", "alice"],
                        stdin: #"{"apiKey":"x","\#(sentinel)":"\#(sentinel)"}"#).status == 65)
        #expect(try run(["connection", "reconnect", id, "--credentials-stdin", "--as", "bob"], stdin: #"{"apiKey":"\#(sentinel)-4"}"#).status == 77)
        #expect(try run(["connection", "create", "--project", "acme", "--piece", "x", "--auth", "oauth2", "--name", "O",
                         "--credentials-stdin", "--as", "bob"], stdin: #"{"accessToken":"\#(sentinel)","expiresAt":"\#(sentinel)"}"#).status == 65)
        _ = try run(["connection", "rename", id, "--name", "Renamed", "--as", "alice"])
        _ = try run(["flow", "attach", "flow-1", id, "--as", "bob"])
        _ = try run(["connection", "expire", id, "--reason", "token expired", "--as", "engine"])
        _ = try run(["connection", "show", id, "--as", "alice"])
        _ = try run(["connection", "show", id, "--as", "alice", "--json"])
        _ = try run(["log"])
        _ = try run(["log", "--json"])
        _ = try run(["connection", "history", id, "--as", "alice"])
        _ = try run(["connections", "list", "--project", "acme", "--as", "alice", "--json"])
        _ = try run(["audit", "--json"])
        _ = try run(["audit"])
        for report in ["connections", "flow-usage", "status-history", "audit"] {
            _ = try run(["report", report, "--format", "csv"])
        }
        _ = try run(["debug", "flow", "flow-1", "--at", "2030-01-01T00:00:00Z", "--json"])
        _ = try run(["projections", "rebuild"])
        _ = try run(["replay", "--until", "2030-01-01T00:00:00Z", "--into", cli.directory.appendingPathComponent("copy.sqlite").path])
        _ = try run(["verify"])
        _ = try run(["keys", "rotate"])
        _ = try run(["connection", "delete", id, "--as", "alice"])
        _ = try run(["log", "--json", "--stream", id])

        for result in seen {
            #expect(!result.stdout.contains(sentinel), "stdout leaked: \(result.stdout.prefix(200))")
            #expect(!result.stderr.contains(sentinel), "stderr leaked: \(result.stderr.prefix(200))")
        }
        #expect(!(try cli.allFileBytes()).contains(bytes: Array(sentinel.utf8)), "a file in the database directory holds the secret")
        #expect(!(try cli.runProgram("sqlite3", [cli.databasePath, ".dump"]).stdout.contains(sentinel)))

        // Positive control: the engine does get the plaintext, so the scans above could have found it.
        let mail = try #require(try cli.run(["log", "--json"]).stdout.components(separatedBy: "connection:").dropFirst()
            .map { String($0.prefix(while: { $0 != "\"" })) }.first { $0 != id })
        let engine = try cli.run(["connection", "credentials", mail, "--as", "engine"])
        #expect(engine.stdout.contains("\(sentinel)-2"))
    }

    @Test func badInputGetsAClearErrorAndAppendsNothing() throws {
        let cli = try seededCLI()
        let id = try createConnection(cli)
        let before = try cli.eventCount()
        let cases: [(args: [String], stdin: String?, status: Int32, says: String)] = [
            (["connection", "create", "--project", "acme", "--piece", "hubspot", "--auth", "api-key", "--name", "x", "--credentials-stdin", "--as", "bob"],
             "{not json", 65, "not valid JSON"),
            (["connection", "create", "--project", "acme", "--piece", "hubspot", "--auth", "api-key", "--name", "x", "--credentials-stdin", "--as", "bob"],
             #"{"api_key":"k"}"#, 65, "'apiKey'"),
            (["connection", "create", "--project", "acme", "--piece", "smtp", "--auth", "basic", "--name", "x", "--credentials-stdin", "--as", "bob"],
             #"{"username":"u"}"#, 65, "'password'"),
            (["connection", "create", "--project", "acme", "--piece", "gmail", "--auth", "api-key", "--name", "x", "--credentials-stdin", "--as", "bob"],
             #"{"apiKey":"k"}"#, 65, "the piece gmail takes oauth2 credentials, not api-key"),
            (["connection", "create", "--project", "acme", "--piece", "hubspot", "--auth", "api-key",
              "--name", String(repeating: "n", count: 10_000), "--credentials-stdin", "--as", "bob"], #"{"apiKey":"k"}"#, 65, "at most 200"),
            (["connection", "rename", id, "--name", "bell\u{07}name", "--as", "alice"], nil, 65, "control character"),
            (["connection", "rename", id, "--name", "   ", "--as", "alice"], nil, 65, "empty"),
            (["connection", "rename", "conn_doesnotexist", "--name", "x", "--as", "alice"], nil, 66, "not found"),
            (["flow", "attach", "flow-1", "conn_doesnotexist", "--as", "bob"], nil, 66, "not found"),
            (["connection", "create", "--project", "nope", "--piece", "hubspot", "--auth", "api-key", "--name", "x", "--credentials-stdin", "--as", "bob"],
             #"{"apiKey":"k"}"#, 66, "not found"),
            (["connection", "create", "--project", "acme", "--piece", "hubspot", "--auth", "saml", "--name", "x", "--credentials-stdin", "--as", "bob"],
             #"{"apiKey":"k"}"#, 64, "saml"),
            (["connection", "rename", id, "--name", "x"], nil, 64, "--as"),
            (["connection", "rename", id, "--name", "x", "--as", "alice"], nil, 0, ""),
            (["connection", "rename", id, "--name", "Mine", "--as", "bob"], nil, 77, "forbidden"),
            (["member", "add", "carol", "--project", "acme", "--as", "bob"], nil, 77, "forbidden"),
            (["connection", "expire", id, "--reason", "x", "--as", "alice"], nil, 77, "forbidden"),
            (["connection", "create", "--project", "acme", "--piece", "hubspot", "--auth", "api-key", "--name", "x", "--as", "bob"],
             nil, 64, "--credentials-stdin"),
            (["verify", "--expect-head", "yesterday"], nil, 64, "POSITION:HASH"),
            (["member", "add", "system", "--project", "acme", "--as", "alice"], nil, 65, "reserved"),
        ]
        var expectedCount = before
        for (args, stdin, status, says) in cases {
            let result = try cli.run(args, stdin: stdin)
            #expect(result.status == status, "\(args.prefix(3)) exited \(result.status): \(result.stderr)")
            #expect(says.isEmpty || result.stderr.contains(says), "\(args.prefix(3)): \(result.stderr)")
            if status == 0 { expectedCount += 1; continue }
            if status != 64 {
                #expect(result.stderr.hasPrefix("credlog: error: "))
                #expect(result.stderr.split(separator: "\n").count == 1, "one line: \(result.stderr)")
            }
            #expect(try cli.eventCount() == expectedCount, "\(args.prefix(3)) changed the log")
        }
    }

    /// `connection check` that may not, or cannot, ask a provider: refused before any request
    /// (the URL is loopback, which the CLI refuses without CREDLOG_ALLOW_PRIVATE_DESTINATIONS),
    /// with nothing appended.
    @Test func aRecheckThatMayNotOrCannotRunAppendsNothing() throws {
        let cli = try seededCLI()
        let piece = cli.directory.appendingPathComponent("crm.json")
        try Data(#"""
            {"id": "crm", "displayName": "CRM", "authType": "api-key",
             "validation": {"method": "GET", "url": "http://127.0.0.1:9/check", "validStatuses": [200], "onConnect": false,
                            "credential": {"in": "header", "name": "Authorization", "value": "Bearer {apiKey}"}}}
            """#.utf8).write(to: piece)
        #expect(try cli.run(["piece", "register", "--project", "acme", "--file", piece.path, "--as", "alice"]).status == 0)
        let crm = try cli.run(["connection", "create", "--project", "acme", "--piece", "crm", "--auth", "api-key", "--name", "CRM",
                               "--credentials-stdin", "--as", "bob"], stdin: #"{"apiKey":"k-1"}"#).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let custom = try createConnection(cli, name: "Custom")
        let before = try cli.eventCount()
        let member = try cli.run(["connection", "check", crm, "--as", "bob"])
        #expect(member.status == 77 && member.stderr.contains("only admins of the project and the system may check"))
        let nothingToAsk = try cli.run(["connection", "check", custom, "--as", "alice"])
        #expect(nothingToAsk.status == 65 && nothingToAsk.stderr.contains("has no validation request"))
        let refused = try cli.run(["connection", "check", crm, "--as", "alice"])
        #expect(refused.status == 1 && refused.stderr.contains("could not be checked with CRM"), "\(refused.stderr)")
        #expect(try cli.run(["connection", "check", "conn_nope", "--as", "alice"]).status == 66)
        #expect(try cli.eventCount() == before)
        #expect(try cli.run(["connection", "show", crm, "--as", "alice"]).stdout.contains("checked      never"))
    }

    @Test func tamperingWithTheSQLiteShellIsReportedAtItsPosition() throws {
        let template = try seededCLI()
        let id = try createConnection(template)
        for flow in 1...5 { #expect(try template.run(["flow", "attach", "flow-\(flow)", id, "--as", "bob"]).status == 0) }
        #expect(try template.eventCount() == 8)
        let verified = try template.run(["verify"])
        #expect(verified.status == 0)
        #expect(verified.stdout.contains("verified 8 events; head 8:"))

        // The triggers refuse edits from the shell.
        let refused = try template.runProgram("sqlite3", [template.databasePath, "UPDATE events SET payload = '{}' WHERE position = 3"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("append-only"))

        let drop = "DROP TRIGGER events_refuse_update; DROP TRIGGER events_refuse_delete;"
        let attacks: [(sql: String, position: Int)] = [
            (#"UPDATE events SET payload = replace(payload, 'flow-2', 'flow-X') WHERE position = 5"#, 5),
            ("DELETE FROM events WHERE position = 4", 4),
            ("UPDATE events SET position = 1000000 WHERE position = 6; UPDATE events SET position = 6 WHERE position = 7; UPDATE events SET position = 7 WHERE position = 1000000", 6),
            ("INSERT INTO events SELECT 9, stream_id, 99, 'forged', event_type, schema_version, recorded_at, actor_id, actor_role, project_id, correlation_id, causation_id, payload, hash FROM events WHERE position = 8", 9),
            ("UPDATE events SET actor_id = 'mallory' WHERE position = 2", 2),
        ]
        for attack in attacks {
            let copy = try CLI()
            try template.copyDatabase(to: copy)
            let tampered = try copy.runProgram("sqlite3", [copy.databasePath, drop + attack.sql])
            #expect(tampered.status == 0, "\(tampered.stderr)")
            let result = try copy.run(["verify"])
            #expect(result.status == 69, "\(attack.sql): \(result.stdout) \(result.stderr)")
            #expect(result.stderr.contains("tampering detected at position \(attack.position):"), "\(attack.sql): \(result.stderr)")
            let json = try copy.run(["verify", "--json"])
            #expect(json.stdout.contains(#""firstBadPosition" : \#(attack.position)"#))
        }
    }

    @Test func anExpectedHeadCatchesARollback() throws {
        let cli = try seededCLI()
        let old = try CLI()
        try cli.copyDatabase(to: old)
        let id = try createConnection(cli)
        #expect(try cli.run(["flow", "attach", "flow-1", id, "--as", "bob"]).status == 0)
        let head = try #require(try cli.run(["verify"]).stdout.components(separatedBy: "head ").last?
            .trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(try cli.run(["verify", "--expect-head", head]).status == 0)
        // Roll the database back to its earlier copy: its own chain is fine, the expected head is gone.
        try old.copyDatabase(to: cli)
        #expect(try cli.run(["verify"]).status == 0)
        let result = try cli.run(["verify", "--expect-head", head])
        #expect(result.status == 69)
        #expect(result.stderr.contains("truncated or rolled back"))
    }

    @Test func twoProcessesAppendingToOneFileLoseNothingAndNeverForkTheChain() throws {
        let cli = try seededCLI()
        let id = try createConnection(cli)
        let before = try cli.eventCount()
        let perProcess = 25
        let script = """
            for i in $(seq 1 \(perProcess)); do
              "$CREDLOG" flow attach "flow-$WRITER-$i" "\(id)" --as bob >/dev/null 2>>"errors-$WRITER" || exit 1
              "$CREDLOG" flow attach "solo-$WRITER-$i" "$SOLO" --as bob >/dev/null 2>>"errors-$WRITER" || exit 1
            done
            """
        let solo = try createConnection(cli, name: "Solo")
        let writers = try ["a", "b"].map { writer in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = ["-c", script]
            process.currentDirectoryURL = cli.directory
            process.environment = cli.environment.merging(["CREDLOG": CLI.executable.path, "WRITER": writer, "SOLO": solo]) { $1 }
            try process.run()
            return process
        }
        for writer in writers { writer.waitUntilExit() }
        let errors = ["a", "b"].map { (try? String(contentsOf: cli.directory.appendingPathComponent("errors-\($0)"), encoding: .utf8)) ?? "" }
        #expect(writers.allSatisfy { $0.terminationStatus == 0 }, "\(errors)")
        #expect(try cli.eventCount() == before + 1 + 4 * perProcess)
        let show = try cli.run(["connection", "show", id, "--as", "alice", "--json"])
        #expect(show.stdout.contains(#""streamVersion" : \#(1 + 2 * perProcess)"#))
        let verified = try cli.run(["verify"])
        #expect(verified.status == 0, "\(verified.stderr)")
        let positions = try cli.runProgram("sqlite3", [cli.databasePath, "SELECT MIN(position), MAX(position), COUNT(*) FROM events"]).stdout
        let total = before + 1 + 4 * perProcess
        #expect(positions.trimmingCharacters(in: .whitespacesAndNewlines) == "1|\(total)|\(total)")
    }

    @Test func masterKeyProblemsAreClearErrors() throws {
        let cli = try seededCLI()
        let id = try createConnection(cli, credentials: #"{"apiKey":"before-rotation"}"#)
        let keyFile = cli.directory.appendingPathComponent("credlog.key").path
        let mode = try FileManager.default.attributesOfItem(atPath: keyFile)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)

        let rotated = try cli.run(["keys", "rotate"])
        #expect(rotated.status == 0)
        #expect(rotated.stdout.contains("re-wrapped 1 data keys"))
        #expect(try cli.run(["connection", "credentials", id, "--as", "engine"]).stdout.contains("before-rotation"))
        #expect(try cli.run(["verify"]).status == 0, "the chain verifies after rotation")

        let wrong = try cli.run(["log"], environment: ["CREDLOG_MASTER_KEY": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="])
        #expect(wrong.status == 78)
        #expect(wrong.stderr.contains("wrong master key"))
        let garbage = try cli.run(["log"], environment: ["CREDLOG_MASTER_KEY": "c2VjcmV0"])
        #expect(garbage.status == 78)
        #expect(garbage.stderr.contains("decodes to 6 bytes"))
        #expect(!garbage.stderr.contains("c2VjcmV0"), "the error does not echo the key")

        chmod(keyFile, 0o644)
        let open = try cli.run(["log"])
        #expect(open.status == 78)
        #expect(open.stderr.contains("chmod 600"))
        try FileManager.default.removeItem(atPath: keyFile)
        let missing = try cli.run(["log"])
        #expect(missing.status == 78)
        #expect(missing.stderr.contains("no master key"))

        let fresh = try CLI()
        let uninitialised = try fresh.run(["log"])
        #expect(uninitialised.status == 78)
        #expect(uninitialised.stderr.contains("credlog init"))
    }

    @Test func theLogHidesOtherProjectsFromAMember() throws {
        let cli = try seededCLI()
        #expect(try cli.run(["project", "create", "globex", "--admin", "gina"]).status == 0)
        _ = try createConnection(cli)
        let bobSees = try cli.run(["log", "--as", "bob", "--json"]).stdout
        #expect(bobSees.contains("acme"))
        #expect(!bobSees.contains("globex"))
        #expect(try cli.run(["log", "--as", "gina", "--json"]).stdout.contains("globex"))
    }
}

extension CLI {
    /// Copies the database files and the key file into another CLI's directory.
    func copyDatabase(to other: CLI) throws {
        _ = try runProgram("sqlite3", [databasePath, "PRAGMA wal_checkpoint(TRUNCATE)"])
        for name in ["credlog.sqlite", "credlog.sqlite-wal", "credlog.sqlite-shm", "credlog.key"] {
            let source = directory.appendingPathComponent(name)
            let target = other.directory.appendingPathComponent(name)
            try? FileManager.default.removeItem(at: target)
            if FileManager.default.fileExists(atPath: source.path) { try FileManager.default.copyItem(at: source, to: target) }
        }
    }
}

@Suite("README quick start")
struct QuickStartTests {
    /// The README's first command, run as written (with the binary the tests built).
    @Test func theDemoRunsAndEndsVerified() throws {
        let cli = try CLI()
        let demoDirectory = cli.directory.appendingPathComponent("demo").path
        let script = CLI.packageRoot.appendingPathComponent("scripts/demo").path
        let result = try cli.runProgram("bash", [script], environment: ["CREDLOG_BIN": CLI.executable.path, "CREDLOG_DEMO_DIR": demoDirectory,
                                                                                "CREDLOG_DEMO_SERVE": "0"])
        #expect(result.status == 0, "\(result.stderr.suffix(500))")
        #expect(result.stderr.contains("forbidden: only admins of the project may rename a connection; bob is member"))
        #expect(result.stdout.contains("no change: "), "renaming to the same name appends nothing")
        #expect(result.stdout.contains("verified 18 events; head 18:"))
        // The webhook is warned of both expiries once (the second round warns no one), and nothing is sent anywhere.
        #expect(result.stdout.components(separatedBy: "connection.expiry-warned").count - 1 >= 2)
        #expect(result.stdout.contains("swept: 0 refreshed, 0 expired, 0 failing; 0 notifications queued, 0 delivered"))
        #expect(result.stdout.contains(
            "verdict: Gmail - Support (gmail) was Inactive since 10:02 (expired: token expired); reconnected at 11:30 by alice"))
        #expect(result.stdout.contains("connection_id,project_id,piece,auth_type,name,status,status_reason,flow_count,"))
        #expect(result.stdout.contains(#""status" : "Inactive""#) || result.stdout.contains("Inactive (expired: token expired) since 2026-11-02T10:02"))
        for secret in ["ya29.demo-access", "pat-na1-demo", "demo-password", "demo-token"] {
            #expect(!result.stdout.contains(secret) && !result.stderr.contains(secret))
        }
    }
}

extension QuickStartTests {
    /// The README's first command ends by serving the demo: the URL and an admin token it prints
    /// sign in to the Connections page, and SIGTERM stops it cleanly.
    @Test func theDemoServesThePageWithThePrintedToken() async throws {
        let cli = try CLI()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [CLI.packageRoot.appendingPathComponent("scripts/demo").path]
        process.environment = cli.environment.merging([
            "CREDLOG_BIN": CLI.executable.path, "CREDLOG_DEMO_DIR": cli.directory.appendingPathComponent("demo").path,
            "CREDLOG_DEMO_PORT": "0"]) { $1 }
        let stdout = Pipe(), stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        // Both streams are read as data comes (the server keeps them open).
        func readUntil(_ handle: FileHandle, _ find: (String) -> String?) -> String? {
            var text = ""
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { return nil }
                text += String(decoding: chunk, as: UTF8.self)
                if let found = find(text) { return found }
            }
        }
        let token = try #require(readUntil(stderr.fileHandleForReading) {
            $0.firstMatch(of: /Admin token \(alice\):\s+(clt_\S+)/).map { String($0.1) }
        }, "the demo printed an admin token")
        let base = try #require(readUntil(stdout.fileHandleForReading) {
            $0.firstMatch(of: /credlog serving (http:\/\/127\.0\.0\.1:\d+)\/connections/).map { String($0.1) }
        }, "the demo printed where it serves")
        var request = URLRequest(url: URL(string: base + "/v1/connections?status=inactive")!)
        request.setValue("Bearer " + token, forHTTPHeaderField: "Authorization")
        let (data, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        #expect(String(decoding: data, as: UTF8.self).contains("Billing API"), "the revoked Billing API is inactive")
        process.terminate()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "SIGTERM stops the server cleanly")
    }
}

/// Help and error output, pinned: a change to them shows up in review.
/// To accept new output: `.build/debug/credlog ARGS > Tests/CLITests/Golden/NAME.txt` (2> for errors).
@Suite("Golden help and errors")
struct GoldenOutputTests {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    @Test(arguments: [
        (["--help"], "credlog-help", false),
        (["connection", "create", "--help"], "connection-create-help", false),
        (["connection", "create", "--project", "a", "--piece", "g", "--auth", "saml", "--name", "x", "--credentials-stdin"],
         "unknown-auth-error", true),
    ])
    func outputMatchesItsGoldenFile(arguments: [String], name: String, onStderr: Bool) throws {
        let result = try CLI().run(arguments, environment: ["COLUMNS": "80"])
        let expected = try String(contentsOf: Self.golden.appendingPathComponent("\(name).txt"), encoding: .utf8)
        #expect((onStderr ? result.stderr : result.stdout) == expected)
        #expect(result.status == (onStderr ? 64 : 0))
    }
}
