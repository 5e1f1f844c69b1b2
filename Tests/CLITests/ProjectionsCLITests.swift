import CredlogEvents
import CredlogProjections
import CredlogTestSupport
import Foundation
import GRDB
import Testing

@Suite("Projections from the command line")
struct ProjectionsCLITests {
    /// A log of `connections × perConnection` events, appended in batches straight to the store.
    func bigLog(connections: Int, perConnection: Int) async throws -> TemporaryLog {
        let log = try await TemporaryLog(durability: .normal)
        try await log.seedProject()
        let meta = EventMetadata(actor: .member("bob", .member), projectId: "acme", correlationId: "bulk", causationId: "bulk",
                                 recordedAt: .now())
        let sealed = SealedCredentials(authType: .apiKey, keyId: "dk-x", box: "Ym94", fingerprint: "fp:0", expiresAt: nil)
        let requests = try (0..<connections).map { n in
            let id = "conn_bulk\(n)"
            let created = ConnectionEvent.created(.init(connectionId: id, projectId: "acme", piece: "gmail", authType: .apiKey,
                                                        name: "Bulk \(n)", credentials: sealed))
            let flows = (1..<perConnection).map { ConnectionEvent.attachedToFlow(.init(flowId: "flow-\($0)")) }
            return AppendRequest(stream: .connection(id), expectedVersion: .noStream, events: try ([created] + flows).map { try $0.encode() },
                                 metadata: meta)
        }
        for result in try await log.store.append(requests) { _ = try result.get() }
        return log
    }

    func checkpoints(_ log: TemporaryLog) throws -> [Int64] {
        try log.pool.read { db in try Int64.fetchAll(db, sql: "SELECT position FROM projection_checkpoints ORDER BY name") }
    }

    @Test func aRebuildKilledMidBatchResumesFromItsCheckpointAndEndsIdentical() async throws {
        let log = try await bigLog(connections: 100, perConnection: 100)
        let head = try await log.store.headPosition()
        let expected = try await log.projectionTables()
        var environment = ProcessInfo.processInfo.environment
        environment["CREDLOG_DB"] = log.path
        environment["CREDLOG_MASTER_KEY"] = log.masterKey.base64

        // Once a batch of the rebuild has committed, the test takes the database's write lock: it then
        // waits at its next batch, and is killed there. Whatever the machine's speed, the kill
        // lands between the first batch and the last, unless the rebuild finished every batch
        // before the lock was taken, which a new rebuild retries.
        var killedAt: [Int64] = []
        var child = Process()
        for _ in 0..<5 where killedAt.isEmpty {
            child = Process()
            child.executableURL = CLI.executable
            child.arguments = ["projections", "rebuild", "--batch-size", "10"]
            child.environment = environment
            child.standardOutput = FileHandle.nullDevice
            try child.run()
            let started = child
            while started.isRunning, killedAt.isEmpty {
                // At the head before the rebuild resets them, and again once it is done.
                guard let low = try checkpoints(log).min(), low > 0, low < head else {
                    try await Task.sleep(for: .milliseconds(1))  // pacing the polls, not waiting for anything
                    continue
                }
                killedAt = try await log.pool.writeWithoutTransaction { db in
                    var seen: [Int64] = []
                    try db.inTransaction(.immediate) {
                        seen = try Int64.fetchAll(db, sql: "SELECT position FROM projection_checkpoints ORDER BY name")
                        if let low = seen.min(), low > 0, low < head - 500 {
                            kill(started.processIdentifier, SIGKILL)
                            started.waitUntilExit()  // with the lock held: the rebuild wrote nothing more
                        } else {
                            seen = []
                        }
                        return .rollback
                    }
                    return seen
                }
                if killedAt.isEmpty { break }  // too late for this rebuild: let it end, and start another
            }
            child.waitUntilExit()
        }
        #expect(child.terminationReason == .uncaughtSignal, "the rebuild was killed before it finished")
        #expect(!killedAt.isEmpty)
        let resumedFrom = try checkpoints(log)
        #expect(resumedFrom == killedAt, "nothing committed after the kill")
        #expect(resumedFrom.allSatisfy { $0 > 0 && $0 < head && $0 % 10 == 0 || $0 == head },
                "checkpoints stand at batch boundaries: \(resumedFrom)")

        // The next start catches up from the checkpoints.
        let status = try CLI.launch(CLI.executable, ["projections", "status", "--json"], stdin: nil,
                                    directory: log.directory, environment: environment)
        #expect(status.status == 0, "\(status.stderr)")
        #expect(try checkpoints(log).allSatisfy { $0 == head })
        #expect(try await log.projectionTables() == expected, "identical to the tables maintained incrementally")
        try await ProjectionRunner(database: log.database).rebuild()
        #expect(try await log.projectionTables() == expected, "identical to a full rebuild")
    }

    /// `log --follow` prints events as other processes append them and stops at `--limit`;
    /// `audit` and `connection history` read a page at a time, the pages equal to the whole.
    @Test func followTheLogAndPageTheAuditAndTheHistory() throws {
        let cli = try seededCLI()
        let gmail = try createConnection(cli)
        let before = try #require(try JSONSerialization.jsonObject(with: Data(cli.run(["log", "--json", "--as", "bob"]).stdout.utf8)) as? [Any])
        let output = cli.directory.appendingPathComponent("follow.jsonl")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let follow = Process()
        follow.executableURL = CLI.executable
        follow.arguments = ["log", "--follow", "--json", "--limit", String(before.count + 3), "--as", "bob"]
        follow.currentDirectoryURL = cli.directory
        follow.environment = cli.environment
        follow.standardOutput = try FileHandle(forWritingTo: output)
        try follow.run()
        for round in 1...3 {
            #expect(try cli.run(["connection", "rename", gmail, "--name", "Gmail \(round)", "--as", "alice"]).status == 0)
        }
        follow.waitUntilExit()
        #expect(follow.terminationStatus == 0, "--follow stopped by itself at --limit")
        let lines = String(decoding: FileManager.default.contents(atPath: output.path) ?? Data(), as: UTF8.self).split(separator: "\n")
        let followed = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(followed.count == before.count + 3 && lines.count == followed.count, "one JSON object per line")
        #expect(followed.suffix(3).map { $0["type"] as? String } == Array(repeating: "connection.renamed", count: 3))
        let positions = followed.compactMap { $0["position"] as? Int }
        #expect(positions == positions.sorted() && Set(positions).count == positions.count)

        for round in 1...4 {
            #expect(try cli.run(["connection", "expire", gmail, "--reason", "lapsed \(round)", "--as", "engine"]).status == 0)
            #expect(try cli.run(["connection", "reconnect", gmail, "--credentials-stdin", "--as", "alice"],
                                stdin: #"{"apiKey":"k-\#(round)"}"#).status == 0)
        }
        let whole = try cli.run(["audit", "--json", "--as", "bob"]).stdout
        let all = try #require(try JSONSerialization.jsonObject(with: Data(whole.utf8)) as? [[String: Any]])
        var paged: [[String: Any]] = []
        var after: String?
        for _ in 0..<100 {
            let page = try cli.run(["audit", "--json", "--limit", "3", "--as", "bob"] + (after.map { ["--after", $0] } ?? []))
            let object = try #require(try JSONSerialization.jsonObject(with: Data(page.stdout.utf8)) as? [String: Any])
            let entries = try #require(object["entries"] as? [[String: Any]])
            #expect(entries.count <= 3)
            paged += entries
            after = object["nextCursor"] as? String
            if after == nil { break }
        }
        let key = { (entry: [String: Any]) in "\(entry["at"] ?? "")|\(entry["position"] ?? "-")|\(entry["action"] ?? "")" }
        #expect(paged.map(key) == all.map(key) && all.count > 10)
        let table = try cli.run(["audit", "--limit", "2", "--newest-first", "--as", "bob"])
        #expect(table.stdout.split(separator: "\n").count == 3 && table.stdout.contains("connection.reconnected"), "\(table.stdout)")
        #expect(table.stderr.hasPrefix("more: --after n"), "\(table.stderr)")
        let history = try cli.run(["connection", "history", gmail, "--limit", "2", "--as", "bob"])
        #expect(history.status == 0 && history.stdout.split(separator: "\n").count == 3 && history.stderr.hasPrefix("more: --after "))
        for bad in [["audit", "--after", "1-2-3"], ["audit", "--limit", "0"], ["connection", "history", gmail, "--limit", "1001"]] {
            let result = try cli.run(bad + ["--as", "bob"])
            #expect(result.status == 64 && result.stderr.contains("--"), "\(bad): \(result.stderr)")
        }
        let badCursor = try cli.run(["audit", "--limit", "2", "--after", "x", "--as", "bob"])
        #expect(badCursor.status == 65 && badCursor.stderr.contains("cursor"), "\(badCursor.stderr)")
    }

    @Test func queriesReportsReplayAndTimeTravel() throws {
        let cli = try seededCLI()
        let early = ["CREDLOG_CLOCK": "2027-03-01T09:00:00Z"]
        let make = { (name: String) throws -> String in
            let result = try cli.run(["connection", "create", "--project", "acme", "--piece", "gmail", "--auth", "oauth2", "--name", name,
                                      "--credentials-stdin", "--as", "bob"], stdin: #"{"accessToken":"k"}"#, environment: early)
            return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let gmail = try make("Gmail - Support")
        let other = try make("Straße, \"quoted\"")
        #expect(try cli.run(["flow", "attach", "triage", gmail, "--as", "bob"], environment: early).status == 0)
        #expect(try cli.run(["connection", "expire", gmail, "--reason", "token expired", "--as", "engine"],
                            environment: ["CREDLOG_CLOCK": "2027-03-01T10:02:00Z"]).status == 0)
        #expect(try cli.run(["connection", "reconnect", gmail, "--credentials-stdin", "--as", "alice"], stdin: #"{"accessToken":"k2"}"#,
                            environment: ["CREDLOG_CLOCK": "2027-03-01T11:30:00Z"]).status == 0)

        // Tables print times to the second; --json keeps the microseconds.
        let table = try cli.run(["connections", "list", "--project", "acme", "--search", "gmail", "--as", "bob"])
        #expect(table.stdout.contains("2027-03-01T11:30:00Z") && !table.stdout.contains("11:30:00.000000Z"), "\(table.stdout)")
        #expect(try cli.run(["connection", "history", gmail, "--as", "bob"]).stdout.contains("2027-03-01T10:02:00Z  "))
        #expect(try cli.run(["connections", "list", "--project", "acme", "--search", "gmail", "--json", "--as", "bob"])
            .stdout.contains("2027-03-01T11:30:00.000000Z"))
        let inactive = try cli.run(["connections", "list", "--project", "acme", "--status", "active", "--search", "STRASSE", "--as", "bob"])
        #expect(inactive.status == 0)
        #expect(!inactive.stdout.contains(other), "straße is not strasse: no false match")
        let search = try cli.run(["connections", "list", "--project", "acme", "--search", "straße", "--json", "--as", "bob"])
        #expect(search.stdout.contains(other) && !search.stdout.contains(gmail))
        #expect(try cli.run(["connections", "list", "--project", "acme", "--as", "gina"]).status == 66, "not a member: not found")
        let gmails = try cli.run(["connections", "list", "--project", "acme", "--piece", "gmail", "--sort", "active-first", "--json", "--as", "bob"])
        #expect(gmails.stdout.contains(gmail) && gmails.stdout.contains(other))
        let none = try cli.run(["connections", "list", "--project", "acme", "--piece", "slack", "--piece", "stripe", "--json", "--as", "bob"])
        #expect(none.status == 0 && !none.stdout.contains(gmail) && !none.stdout.contains(other))
        let bad = try cli.run(["connections", "list", "--project", "acme", "--piece", "Gmail", "--as", "bob"])
        #expect(bad.status == 65)
        #expect(bad.stderr.contains("lower-case"))

        let flows = try cli.run(["flows", "list", "--connection", gmail, "--as", "bob"])
        #expect(flows.stdout.contains("triage"))
        // The owner: a column, a filter; who reconnected last is in `connection show`.
        #expect(table.stdout.contains("OWNER") && table.stdout.contains("  bob"))
        let byBob = try cli.run(["connections", "list", "--project", "acme", "--owner", "bob", "--json", "--as", "bob"])
        #expect(byBob.stdout.contains(gmail) && byBob.stdout.contains(other))
        let byAlice = try cli.run(["connections", "list", "--project", "acme", "--owner", "alice", "--as", "bob"])
        #expect(byAlice.status == 0 && !byAlice.stdout.contains(gmail))
        #expect(try cli.run(["connection", "show", gmail, "--as", "bob"]).stdout.contains("owner        bob, last reconnected by alice"))
        #expect(try cli.run(["connections", "list", "--project", "acme", "--owner", "b b", "--as", "bob"]).status == 65)

        // Replacing moves the flow; a member may not; a connection of another piece is refused.
        let before = try cli.run(["log", "--json", "--as", "alice"]).stdout
        #expect(try cli.run(["connection", "replace", gmail, "--with", other, "--as", "bob"]).status == 77)
        #expect(try cli.run(["log", "--json", "--as", "alice"]).stdout == before, "a refusal appends nothing")
        let moved = try cli.run(["connection", "replace", gmail, "--with", other, "--as", "alice"])
        #expect(moved.status == 0)
        #expect(moved.stdout.contains("moved 1 flow from \(gmail) to \(other): triage"), "\(moved.stdout)")
        #expect(try cli.run(["flows", "list", "--connection", other, "--as", "bob"]).stdout.contains("triage"))
        #expect(try cli.run(["connection", "replace", gmail, "--with", other, "--as", "alice"]).stdout.contains("no change"))
        _ = try cli.run(["connection", "replace", other, "--with", gmail, "--as", "alice"])  // back, for what follows

        let then = try cli.run(["connection", "show", gmail, "--at", "2027-03-01T10:05:00Z", "--as", "bob", "--json"])
        #expect(then.stdout.contains(#""status" : "Inactive""#))
        let now = try cli.run(["connection", "show", gmail, "--as", "bob", "--json"])
        #expect(now.stdout.contains(#""status" : "Active""#))
        #expect(try cli.run(["connection", "show", gmail, "--at-position", "2", "--as", "bob"]).status == 66, "it did not exist yet")
        let history = try cli.run(["connection", "history", gmail, "--as", "bob"])
        #expect(history.stdout.contains("inactive") && history.stdout.contains("reconnected"))

        let debug = try cli.run(["debug", "flow", "triage", "--at", "2027-03-01T10:05:00Z", "--as", "bob"])
        #expect(debug.stdout.contains("verdict: Gmail - Support (gmail) was Inactive since 10:02 (expired: token expired); reconnected at 11:30 by alice"))

        let csv = try cli.run(["report", "connections", "--format", "csv", "--as-of", "2027-03-01T10:30:00Z", "--as", "alice"])
        #expect(csv.status == 0, "\(csv.stderr)")
        let lines = csv.stdout.components(separatedBy: "\r\n")
        #expect(lines.first == "connection_id,project_id,piece,auth_type,name,status,status_reason,flow_count,connected_at,status_changed_at,credential_expires_at,credential_fingerprint,created_by,reconnected_by")
        #expect(lines.contains { $0.hasPrefix(gmail) && $0.contains(",inactive,expired: token expired,1,") })
        #expect(csv.stdout.contains(#""Straße, ""quoted""""#))

        let audit = try cli.run(["audit", "--connection", gmail, "--type", "connection.expired", "--json", "--as", "alice"])
        #expect(audit.stdout.components(separatedBy: #""action" : "connection.expired""#).count == 2)

        let replayPath = cli.directory.appendingPathComponent("march.sqlite").path
        let replay = try cli.run(["replay", "--until", "2027-03-01T10:30:00Z", "--into", replayPath])
        #expect(replay.status == 0, "\(replay.stderr)")
        let replayed = try cli.run(["connection", "show", gmail, "--db", replayPath, "--as", "bob", "--json"])
        #expect(replayed.stdout.contains(#""status" : "Inactive""#), "the replay stops before the reconnect")
        #expect(try cli.run(["verify", "--db", replayPath]).status == 0, "a replay is a verifiable prefix of the log")
        #expect(try cli.run(["replay", "--until", "2027-03-01T10:30:00Z", "--into", replayPath]).status != 0, "never overwrites")

        let status = try cli.run(["projections", "status"])
        #expect(status.stdout.contains("connections") && status.stdout.contains("LAG"))
        #expect(try cli.run(["projections", "rebuild", "nope"]).status == 64)
        #expect(try cli.run(["projections", "rebuild"]).status == 0)
    }
}
