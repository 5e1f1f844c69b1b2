import CredlogTestSupport
import Foundation
import Testing

/// `credlog token` as an operator runs it: scope and expiry at issue, the list with them,
/// rotation printing a new secret for the same id, and typos refused with nothing issued.
@Suite("Token commands")
struct TokenCLITests {
    @Test func issueWithScopeAndExpiryListRotateAndRefuseTypos() throws {
        let cli = try CLI()
        #expect(try cli.run(["init"]).status == 0)
        #expect(try cli.run(["project", "create", "acme", "--admin", "alice"]).status == 0)
        let created = try cli.run(["token", "create", "--member", "alice", "--project", "acme", "--scope", "read", "--expires-in", "30d"])
        #expect(created.status == 0 && created.stderr.contains("(read, until "), "\(created.stderr)")
        let token = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let tokenId = String(token.dropFirst(4).split(separator: "_").prefix(2).joined(separator: "_"))

        let listed = try cli.run(["token", "list", "--project", "acme", "--json"])
        let tokens = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        let row = try #require(tokens.first { $0["tokenId"] as? String == tokenId })
        #expect(row["scope"] as? String == "read" && row["expiresAt"] is String)
        #expect(!listed.stdout.contains(token.split(separator: "_").last!), "the secret is not kept")
        let table = try cli.run(["token", "list"]).stdout
        #expect(table.contains("SCOPE") && table.contains("LAST USED") && table.contains("read"))

        let rotated = try cli.run(["token", "rotate", tokenId, "--grace", "10m"])
        #expect(rotated.status == 0)
        let fresh = rotated.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(fresh.hasPrefix("clt_\(tokenId)_") && fresh != token)
        #expect(try cli.run(["log", "--json"]).stdout.contains("project.token-rotated"))

        let before = try cli.run(["token", "list", "--json"]).stdout
        for (arguments, message) in [(["--expires-in", "soon"], "--expires-in"), (["--expires-in", "0d"], "--expires-in"),
                                     (["--scope", "admin"], "--scope"), (["--expires-in", "4000d"], "at most 3650 days")] {
            let refused = try cli.run(["token", "create", "--member", "alice", "--project", "acme"] + arguments)
            #expect(refused.status != 0 && refused.stderr.contains(message), "\(arguments): \(refused.stderr)")
        }
        #expect(try cli.run(["token", "rotate", tokenId, "--grace", "8d"]).status != 0)
        #expect(try cli.run(["token", "list", "--json"]).stdout == before, "a refused command issues and rotates nothing")
    }
}
