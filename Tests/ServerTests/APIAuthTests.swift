import CredlogEvents
import Foundation
import GRDB
import Hummingbird
import Testing

/// Tokens: who may call at all, what each role may do, and what another project may see.
@Suite("API: authentication and authorization")
struct APIAuthTests {
    @Test func noTokenAWrongTokenAndARevokedTokenAre401() async throws {
        let fixture = try await APIFixture()
        let revoked = fixture.alice
        try await fixture.log.revokeToken(fixture.aliceTokenId)
        try await fixture.test { api in
            for token in [nil, "clt_tok_nope_nope", String(fixture.bob.dropLast()) + (fixture.bob.hasSuffix("a") ? "b" : "a"), revoked] {
                let response = try await api.call(.get, "/v1/connections", token: token)
                #expect(response.status == 401, "token \(token == nil ? "none" : "bad")")
                #expect(response.isProblem)
                #expect(response.headers[.wwwAuthenticate] == "Bearer")
            }
            #expect(try await api.call(.get, "/v1/connections", token: fixture.bob).status == 200)
        }
    }

    @Test func onlyAHashOfTheTokenIsStored() async throws {
        let fixture = try await APIFixture()
        let secret = String(fixture.alice.split(separator: "_").last ?? "")
        #expect(secret.count == 32)
        #expect(!(try await fixture.log.storedBytes()).contains(bytes: Array(secret.utf8)), "the token's secret is not in the database")
    }

    @Test func aMemberDoingAnAdminsActionIs403AuditedAndChangesNothing() async throws {
        let fixture = try await APIFixture()
        let id = try await fixture.createConnection()
        try await fixture.test { api in
            let before = try await fixture.events()
            let response = try await api.call(.post, "/v1/connections/\(id)/rename", token: fixture.bob, json: #"{"name":"Bob's"}"#)
            #expect(response.status == 403)
            #expect(response.isProblem)
            #expect(try await fixture.events() == before, "a refused command appends nothing")
            let audit = try await api.call(.get, "/v1/audit?connection=\(id)&type=connection.rename", token: fixture.alice)
            #expect(audit.items("entries").count == 1)
            #expect(audit.items("entries").first?["outcome"] as? String == "refused")
            #expect(audit.items("entries").first?["actorId"] as? String == "bob")
        }
    }

    @Test func anotherProjectsConnectionIs404ForEveryEndpoint() async throws {
        let fixture = try await APIFixture()
        let id = try await fixture.createConnection()
        try await fixture.test { api in
            let before = try await fixture.events()
            let calls: [(HTTPRequest.Method, String, String?)] = [
                (.get, "/v1/connections/\(id)", nil), (.get, "/v1/connections/\(id)/history", nil),
                (.get, "/v1/connections/\(id)/flows", nil), (.post, "/v1/connections/\(id)/rename", #"{"name":"x"}"#),
                (.post, "/v1/connections/\(id)/revoke", #"{"reason":"x"}"#), (.delete, "/v1/connections/\(id)", nil),
                (.put, "/v1/connections/\(id)/flows/f1", nil),
                (.post, "/v1/connections/\(id)/reconnect", #"{"credentials":{"apiKey":"k"}}"#),
            ]
            for (method, path, body) in calls {
                let response = try await api.call(method, path, token: fixture.carol, json: body)
                #expect(response.status == 404, "\(method) \(path)")
                #expect(response.isProblem)
            }
            #expect(try await fixture.events() == before)
            let list = try await api.call(.get, "/v1/connections", token: fixture.carol)
            #expect((list.object["connections"] as? [Any])?.isEmpty == true, "globex sees none of acme's connections")
            let audit = try await api.call(.get, "/v1/audit", token: fixture.carol)
            #expect(audit.items("entries").allSatisfy { $0["projectId"] as? String == "globex" })
        }
    }

    @Test func onlyEngineTokensReadPlaintextAndEveryReadIsAudited() async throws {
        let fixture = try await APIFixture()
        let id = try await fixture.createConnection(json: #"{"apiKey":"sk-live-42"}"#)
        try await fixture.test { api in
            let denied = try await api.call(.get, "/v1/connections/\(id)/credentials", token: fixture.alice)
            #expect(denied.status == 403)
            #expect(!denied.text.contains("sk-live-42"))
            let read = try await api.call(.get, "/v1/connections/\(id)/credentials", token: fixture.engine,
                                          headers: [.init("X-Correlation-Id")!: "run-4812"])
            #expect(read.status == 200)
            #expect(read.object["apiKey"] as? String == "sk-live-42")
            #expect(read.headers[.cacheControl] == "no-store")
            let refusals = try await api.call(.get, "/v1/audit?connection=\(id)&type=connection.reveal", token: fixture.alice)
            #expect(refusals.items("entries").map { $0["outcome"] as? String } == ["refused"], "the refused read is in the audit trail")
            #expect(refusals.items("entries").first?["actorId"] as? String == "alice")
            let audit = try await api.call(.get, "/v1/audit?connection=\(id)&type=connection.credentials-read", token: fixture.alice)
            #expect(audit.items("entries").count == 1, "the read is in the audit trail")
            #expect(audit.items("entries").first?["correlationId"] as? String == "run-4812")
            #expect(audit.items("entries").first?["outcome"] as? String == "read")
        }
    }
}
