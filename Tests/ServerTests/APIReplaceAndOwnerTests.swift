import CredlogDomain
import CredlogEvents
import CredlogProjections
import Foundation
import HTTPTypes
import Synchronization
import Hummingbird
import HummingbirdTesting
import CredlogLifecycle
import NIOCore
import Testing

/// `POST /v1/connections/{id}/replace` and the owner columns, through the real router.
@Suite struct APIReplaceAndOwnerTests {
    @Test func replacingMovesEveryFlowInOneAppendUnderOneCorrelationId() async throws {
        let fixture = try await APIFixture()
        let old = try await fixture.createConnection(name: "CRM old")
        let new = try await fixture.createConnection(name: "CRM new", by: "alice")
        let engine = CommandContext(principal: .engine)
        for flow in ["f1", "f2", "f3"] { _ = try await fixture.log.service.attach(flow: flow, to: old, context: engine) }
        _ = try await fixture.log.service.attach(flow: "f3", to: new, context: engine)
        try await fixture.test { api in
            let before = try await fixture.events()
            let response = try await api.call(.post, "/v1/connections/\(old)/replace", token: fixture.alice, json: #"{"with":"\#(new)"}"#,
                                              headers: [HTTPField.Name("X-Correlation-Id")!: "move-crm-1"])
            #expect(response.status == 200, "\(response.text)")
            #expect(response.object["flows"] as? [String] == ["f1", "f2", "f3"])
            #expect(response.object["changed"] as? Bool == true)
            let appended = Array(try await fixture.events().dropFirst(before.count))
            // Three detaches from the old one, two attaches to the new one (f3 already used it).
            #expect(appended.map(\.type) == Array(repeating: ConnectionEvent.TypeName.detachedFromFlow, count: 3)
                    + Array(repeating: ConnectionEvent.TypeName.attachedToFlow, count: 2))
            #expect(Set(appended.map(\.correlationId)) == ["move-crm-1"])
            #expect(appended.map(\.stream) == Array(repeating: .connection(old), count: 3) + Array(repeating: .connection(new), count: 2))
            #expect(response.object["firstPosition"] as? Int == Int(appended.first?.position ?? 0))
            #expect(response.object["lastPosition"] as? Int == Int(appended.last?.position ?? 0))
            for (id, count) in [(old, 0), (new, 3)] {
                let shown = try await api.call(.get, "/v1/connections/\(id)", token: fixture.bob)
                #expect((shown.object["flows"] as? [String])?.count == count, "\(id)")
            }
            let listed = try await api.call(.get, "/v1/connections?sort=name", token: fixture.bob)
            let counts = try #require(listed.object["connections"] as? [[String: Any]]).map { $0["flowCount"] as? Int }
            #expect(counts == [3, 0], "CRM new, CRM old")
            // Again: nothing left to move, nothing appended.
            let again = try await api.call(.post, "/v1/connections/\(old)/replace", token: fixture.alice, json: #"{"with":"\#(new)"}"#)
            #expect(again.status == 200)
            #expect(again.object["changed"] as? Bool == false)
            #expect(again.object["flows"] as? [String] == [])
            #expect(try await fixture.events().count == before.count + 5)
        }
    }

    @Test func aHundredFlowsMoveInOneAppendAndADeleteOfTheTargetMeanwhileLeavesEveryFlowWhereItWas() async throws {
        let store = Mutex<InterferingStore?>(nil)
        let fixture = try await APIFixture(wrapping: { inner in
            let wrapped = InterferingStore(inner)
            store.withLock { $0 = wrapped }
            return wrapped
        })
        let interfering = try #require(store.withLock { $0 })
        let old = try await fixture.createConnection(name: "CRM old")
        let new = try await fixture.createConnection(name: "CRM new")
        let doomed = try await fixture.createConnection(name: "CRM doomed")
        let flows = (1...100).map { String(format: "flow-%03d", $0) }
        for flow in flows { _ = try await fixture.log.service.attach(flow: flow, to: old, context: CommandContext(principal: .engine)) }
        try await fixture.test { api in
            // The target is deleted after the decision, before the append: the whole move fails.
            interfering.setInterference { [log = fixture.log] in
                _ = try await log.service.delete(doomed, context: CommandContext(principal: .member("alice")))
            }
            let before = try await fixture.events()
            let refused = try await api.call(.post, "/v1/connections/\(old)/replace", token: fixture.alice, json: #"{"with":"\#(doomed)"}"#)
            #expect(refused.status == 409, "\(refused.text)")
            let after = try await fixture.events()
            #expect(after.count == before.count + 1 && after.last?.type == ConnectionEvent.TypeName.deleted, "only the delete")
            #expect(try await fixture.log.service.loadConnection(old).state.connection?.flows.count == 100, "every flow left where it was")

            // A hundred flows move in one atomic append: 100 detaches, then 100 attaches, consecutive.
            let moved = try await api.call(.post, "/v1/connections/\(old)/replace", token: fixture.alice, json: #"{"with":"\#(new)"}"#)
            #expect(moved.status == 200)
            #expect(moved.object["flows"] as? [String] == flows)
            #expect(interfering.atomicAppends.withLock { $0 } == [200, 200], "the refused attempt, then this one: each one append")
            let appended = Array(try await fixture.events().dropFirst(after.count))
            #expect(appended.count == 200 && zip(appended, appended.dropFirst()).allSatisfy { $1.position == $0.position + 1 })
            #expect(Set(appended.map(\.correlationId)).count == 1)
            #expect(try await fixture.log.service.loadConnection(new).state.connection?.flows == Set(flows))
            #expect(try await fixture.log.service.loadConnection(old).state.connection?.flows.isEmpty == true)
        }
    }

    @Test func aReplacementThatBreaksARuleIsRefusedAndAppendsNothing() async throws {
        let fixture = try await APIFixture()
        let old = try await fixture.createConnection(name: "CRM old")
        let other = try await fixture.createConnection(name: "Stripe", piece: "stripe")
        let inactive = try await fixture.createConnection(name: "CRM expired")
        let deleted = try await fixture.createConnection(name: "CRM deleted")
        let elsewhere = try await fixture.createConnection(name: "CRM globex", project: "globex", by: "carol")
        let new = try await fixture.createConnection(name: "CRM new")
        let engine = CommandContext(principal: .engine)
        _ = try await fixture.log.service.attach(flow: "f1", to: old, context: engine)
        _ = try await fixture.log.service.expire(inactive, reason: "key revoked at the provider", context: engine)
        _ = try await fixture.log.service.delete(deleted, context: CommandContext(principal: .member("alice")))
        try await fixture.test { api in
            let before = try await fixture.events()
            let cases: [(token: String, path: String, body: String, status: Int)] = [
                (fixture.alice, "/v1/connections/\(old)/replace", #"{"with":"\#(other)"}"#, 422),  // another piece
                (fixture.alice, "/v1/connections/\(old)/replace", #"{"with":"\#(inactive)"}"#, 422),
                (fixture.alice, "/v1/connections/\(old)/replace", #"{"with":"\#(old)"}"#, 422),
                (fixture.alice, "/v1/connections/\(old)/replace", #"{"with":"\#(deleted)"}"#, 409),
                (fixture.alice, "/v1/connections/\(old)/replace", #"{"with":"\#(elsewhere)"}"#, 404),  // another project's
                (fixture.alice, "/v1/connections/\(old)/replace", #"{"with":"conn_nope"}"#, 404),
                (fixture.carol, "/v1/connections/\(old)/replace", #"{"with":"\#(new)"}"#, 404),
                (fixture.bob, "/v1/connections/\(old)/replace", #"{"with":"\#(new)"}"#, 403),  // members may not
                (fixture.engine, "/v1/connections/\(old)/replace", #"{"with":"\#(new)"}"#, 403),
                (fixture.alice, "/v1/connections/\(old)/replace", #"{"instead":"\#(new)"}"#, 422),
                (fixture.alice, "/v1/connections/\(old)/replace", #"{"with":7}"#, 422),
            ]
            for check in cases {
                let response = try await api.call(.post, check.path, token: check.token, json: check.body)
                #expect(response.status == check.status, "\(check.body): \(response.text)")
                #expect(response.isProblem)
            }
            #expect(try await fixture.events() == before)
            let refused = try await fixture.log.store.refusals().filter { $0.command == "connection.replace" }
            #expect(refused.count == 9, "each refusal the service decided is in the audit trail")
        }
    }

    @Test func theOwnerAndWhoLastReconnectedAreColumnsFieldsAndAFilter() async throws {
        let fixture = try await APIFixture()
        let byAlice = try await fixture.createConnection(name: "A", by: "alice")
        var secret = Array(#"{"apiKey":"k-b"}"#.utf8)
        let byBob = try await fixture.log.service.createConnection(
            projectId: "acme", piece: "acme-crm", authType: .apiKey, name: "B", credentials: &secret,
            context: CommandContext(principal: .member("bob"))).stream.connectionId ?? ""
        var newSecret = Array(#"{"apiKey":"k-2"}"#.utf8)
        _ = try await fixture.log.service.reconnect(byBob, credentials: &newSecret, context: CommandContext(principal: .member("alice")))
        try await fixture.test { api in
            func listed(_ query: String) async throws -> [[String: Any]] {
                let response = try await api.call(.get, "/v1/connections?\(query)", token: fixture.bob)
                #expect(response.status == 200, "\(query): \(response.text)")
                return try #require(response.object["connections"] as? [[String: Any]])
            }
            let all = try await listed("sort=name")
            #expect(all.map { $0["createdBy"] as? String } == ["alice", "bob"])
            #expect(all.map { $0["reconnectedBy"] as? String } == [nil, "alice"])
            #expect(try await listed("owner=bob").compactMap { $0["id"] as? String } == [byBob])
            #expect(try await listed("owner=alice&sort=connected-on").compactMap { $0["id"] as? String } == [byAlice])
            #expect(try await listed("owner=carol").isEmpty)
            let shown = try await api.call(.get, "/v1/connections/\(byBob)", token: fixture.bob)
            #expect(shown.object["createdBy"] as? String == "bob")
            #expect(shown.object["reconnectedBy"] as? String == "alice")
            let before = try await fixture.events()
            for bad in ["owner=b%20b", "owner=", "owner=" + String(repeating: "b", count: 65)] {
                let response = try await api.call(.get, "/v1/connections?\(bad)", token: fixture.bob)
                #expect(response.status == 422, "\(bad)")
                #expect(response.isProblem)
            }
            #expect(try await fixture.events() == before)
        }
    }
}

/// `status=expiring`: what a person must reconnect soon.
@Suite struct APIExpiringFilterTests {
    @Test func theExpiringFilterListsActiveCredentialsCredlogCannotRenewThatExpireWithinAWeek() async throws {
        let fixture = try await APIFixture()
        let now = Timestamp.now()
        func at(days: Int) -> String { (now + .seconds(days * 86_400)).iso8601 }
        let soon = try await fixture.createConnection(name: "Key in 3 days", json: #"{"apiKey":"k","expiresAt":"\#(at(days: 3))"}"#)
        _ = try await fixture.createConnection(name: "Key in 30 days", json: #"{"apiKey":"k","expiresAt":"\#(at(days: 30))"}"#)
        _ = try await fixture.createConnection(name: "Key for ever", json: #"{"apiKey":"k"}"#)
        _ = try await fixture.createConnection(name: "Renews itself", piece: "gmail",
                                               json: #"{"accessToken":"a","refreshToken":"r","expiresAt":"\#(at(days: 1))"}"#, auth: .oauth2)
        let noRefresh = try await fixture.createConnection(name: "Token without refresh", piece: "gmail",
                                                           json: #"{"accessToken":"a","expiresAt":"\#(at(days: 6))"}"#, auth: .oauth2)
        // A refresh token alone is not enough: GitHub has no OAuth2 client registered in acme, Gmail has.
        let noClient = try await fixture.createConnection(name: "Refresh token, no client", piece: "github",
                                                          json: #"{"accessToken":"a","refreshToken":"r","expiresAt":"\#(at(days: 2))"}"#, auth: .oauth2)
        var gmail = try #require(PieceCatalogue.standard.builtIn["gmail"])
        gmail.oauth2?.clientId = "acme-client"
        var clientSecret: [UInt8]? = Array("acme-client-secret".utf8)
        _ = try await fixture.log.service.registerPiece(gmail, clientSecret: &clientSecret, in: "acme",
                                                        context: CommandContext(principal: .member("alice")))
        let lapsed = try await fixture.createConnection(name: "Expired one", json: #"{"apiKey":"k","expiresAt":"\#(at(days: 2))"}"#)
        _ = try await fixture.log.service.expire(lapsed, reason: "the key's expiry date has passed", context: CommandContext(principal: .system))
        try await fixture.test { api in
            let response = try await api.call(.get, "/v1/connections?status=expiring", token: fixture.bob)
            #expect(response.status == 200)
            let ids = try #require(response.object["connections"] as? [[String: Any]]).compactMap { $0["id"] as? String }
            #expect(ids == [soon, noClient, noRefresh], "by name; not the one that renews itself, nor the inactive one")
            #expect(try await api.call(.get, "/v1/connections?status=expiring&sort=connected-on", token: fixture.bob).status == 200)
            #expect(try await api.call(.get, "/v1/connections?status=soon", token: fixture.bob).status == 400)
        }
    }
}

/// `POST /v1/connections/{id}/check`: the provider asked, its answer recorded.
@Suite struct APIRecheckTests {
    /// A provider on loopback that accepts one key (`good-key`) and refuses others, echoing them.
    static func standIn(_ body: @Sendable (_ baseURL: String) async throws -> Void) async throws {
        let router = Router()
        router.get("check") { request, _ -> Response in
            let presented = request.headers[.authorization] ?? ""
            guard presented != "Bearer good-key" else { return Response(status: .ok) }
            return Response(status: .unauthorized, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: #"{"message":"no such key: \#(presented)"}"#)))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in try await body("http://127.0.0.1:\(client.port ?? 0)") }
    }

    static func register(_ fixture: APIFixture, url: String) async throws {
        var none: [UInt8]?
        _ = try await fixture.log.service.registerPiece(
            PieceDefinition(id: "crm", displayName: "CRM", authType: .apiKey, validation: ValidationRequest(
                method: "GET", url: url, credential: .init(location: .header, name: "Authorization", value: "Bearer {apiKey}"),
                validStatuses: [200], onConnect: false)),
            clientSecret: &none, in: "acme", context: CommandContext(principal: .member("alice")))
    }

    @Test func aCheckRecordsTheAnswerAndARefusalMakesTheConnectionInactive() async throws {
        try await Self.standIn { baseURL in
            let fixture = try await APIFixture(http: OutboundHTTP(destinations: .anyAddress))
            try await Self.register(fixture, url: baseURL + "/check")
            let good = try await fixture.createConnection(name: "Good", piece: "crm", json: #"{"apiKey":"good-key"}"#)
            let bad = try await fixture.createConnection(name: "Bad", piece: "crm", json: #"{"apiKey":"SENTINEL-KEY-4242"}"#)
            try await fixture.test { api in
                let accepted = try await api.call(.post, "/v1/connections/\(good)/check", token: fixture.alice)
                #expect(accepted.status == 200, "\(accepted.text)")
                #expect(accepted.object["passed"] as? Bool == true && accepted.object["status"] as? String == "active")
                let refused = try await api.call(.post, "/v1/connections/\(bad)/check", token: fixture.alice)
                #expect(refused.status == 200)
                #expect(refused.object["passed"] as? Bool == false && refused.object["httpStatus"] as? Int == 401)
                #expect(refused.object["status"] as? String == "inactive")
                #expect(!refused.text.contains("SENTINEL-KEY-4242"), "the provider's echo of the key is blanked: \(refused.text)")
                let shown = try await api.call(.get, "/v1/connections/\(good)", token: fixture.bob)
                #expect(shown.object["lastCheck"] as? String == "passed (HTTP 200)" && shown.object["lastCheckedAt"] is String)
                let listed = try await api.call(.get, "/v1/connections?status=inactive", token: fixture.bob)
                #expect((listed.object["connections"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [bad])
            }
        }
    }

    @Test func aCheckThatMayNotOrCannotRunAppendsNothing() async throws {
        let fixture = try await APIFixture()  // public addresses only: the loopback URL below is refused before connecting
        try await Self.register(fixture, url: "http://127.0.0.1:9/check")
        let crm = try await fixture.createConnection(name: "CRM", piece: "crm", json: #"{"apiKey":"k-1"}"#)
        let custom = try await fixture.createConnection(name: "Custom", piece: "acme-crm")
        try await fixture.test { api in
            let before = try await fixture.events()
            for (token, id, status) in [(fixture.bob, crm, 403), (fixture.engine, crm, 403), (fixture.carol, crm, 404),
                                        (fixture.alice, "conn_nope", 404), (fixture.alice, custom, 422), (fixture.alice, crm, 503)] {
                let response = try await api.call(.post, "/v1/connections/\(id)/check", token: token)
                #expect(response.status == status, "\(id): \(response.text)")
                #expect(response.isProblem)
            }
            #expect(try await fixture.events() == before)
        }
    }
}
