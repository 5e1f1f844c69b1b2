import CredlogEvents
import CredlogTestSupport
import Foundation
import Testing

/// `credlog migrate`: a SQLite log into PostgreSQL and back, as an operator would run it.
@Suite("Migrating between backends", .enabled(if: TestPostgres.url != nil), .serviceScope)
struct MigrateCLITests {
    @Test func aSQLiteLogMovesToPostgreSQLWhole() async throws {
        let cli = try seededCLI()
        let sentinel = "sk-migrate-sentinel-4242"
        let id = try createConnection(cli, credentials: #"{"apiKey":"\#(sentinel)"}"#)
        #expect(try cli.run(["flow", "attach", "flow-1", id, "--as", "bob"]).status == 0)
        #expect(try cli.run(["connection", "expire", id, "--reason", "key rotated", "--as", "system"]).status == 0)
        #expect(try cli.run(["connection", "create", "--project", "acme", "--piece", "acme-crm", "--auth", "api-key", "--name", "x",
                             "--credentials-stdin", "--as", "mallory"], stdin: #"{"apiKey":"k"}"#).status != 0, "a refusal to carry over")
        let token = try cli.run(["token", "create", "--member", "alice", "--project", "acme"]).stdout
        let events = try cli.eventCount()

        let target = try await TestPostgres.newDatabase()
        let url = target.description
        let migrated = try cli.run(["migrate", "--from", cli.databasePath, "--to", url, "--json"])
        #expect(migrated.status == 0, "\(migrated.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(migrated.stdout.utf8)) as? [String: Any])
        #expect(summary["events"] as? Int == events)
        let rows = try #require(summary["rows"] as? [String: Int])
        #expect(rows["refusals"] == 1 && rows["access_tokens"] == 1 && rows["keyring"] == 1 && rows["data_keys"] == 1)
        #expect(!migrated.stdout.contains(sentinel) && !migrated.stderr.contains(sentinel))

        // The same log, the same read models and the same keys, now on PostgreSQL.
        for arguments in [["verify"], ["connections", "list", "--project", "acme", "--as", "alice", "--json"],
                          ["connection", "history", id, "--as", "alice", "--json"], ["audit", "--project", "acme", "--as", "alice", "--json"]] {
            let before = try cli.run(arguments)
            let after = try cli.run(arguments + ["--db", url])
            #expect(before.status == 0 && after.status == 0, "\(arguments): \(after.stderr)")
            #expect(before.stdout == after.stdout, "\(arguments) differs after the move")
        }
        let revealed = try cli.run(["connection", "credentials", id, "--as", "engine", "--db", url])
        #expect(revealed.status != 0 && revealed.stderr.contains("inactive"), "still expired there")
        #expect(try cli.run(["connection", "reconnect", id, "--credentials-stdin", "--as", "alice", "--db", url],
                            stdin: #"{"apiKey":"\#(sentinel)-2"}"#).status == 0)
        #expect(try cli.run(["connection", "credentials", id, "--as", "engine", "--db", url]).stdout.contains("\(sentinel)-2"))
        #expect(!token.isEmpty)
        // New audit records go on after the copied ones (their ids were copied, not drawn).
        #expect(try cli.run(["connection", "rename", id, "--name", "x", "--as", "bob", "--db", url]).status == 77)
        let audit = try cli.run(["audit", "--project", "acme", "--as", "alice", "--db", url])
        // bob's refusal; mallory, an outsider, left hers in no project's audit (only the operator's).
        #expect(audit.stdout.components(separatedBy: "refused").count - 1 == 1, "\(audit.stdout)")

        // A second migration into the same database is refused and changes nothing there.
        let database = try await CredlogDatabase.open(.postgres(target))
        let count: Int? = try await database.read { try $0.fetchValue(sql: "SELECT COUNT(*) FROM events") }
        let again = try cli.run(["migrate", "--from", cli.databasePath, "--to", url])
        #expect(again.status == 78 && again.stderr.contains("already holds a credlog log"), "\(again.stderr)")
        #expect(try await database.read { try $0.fetchValue(sql: "SELECT COUNT(*) FROM events") } == count)

        // And back into a new SQLite file: the chain still verifies there.
        let back = cli.directory.appendingPathComponent("back.sqlite").path
        let returned = try cli.run(["migrate", "--from", url, "--to", back])
        #expect(returned.status == 0, "\(returned.stderr)")
        #expect(try cli.run(["verify", "--db", back]).stdout == (try cli.run(["verify", "--db", url]).stdout))
    }
}
