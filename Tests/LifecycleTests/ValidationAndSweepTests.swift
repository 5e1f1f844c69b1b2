import CredlogDomain
import CredlogEvents
import CredlogLifecycle
import CredlogProjections
import CredlogTestSupport
import Foundation
import GRDB
import Testing

/// Validation requests on create and reconnect; the sweeper.
@Suite("Validation and the sweeper")
struct ValidationAndSweepTests {
    /// Registers `id` (default `testkeys`), an API-key piece validated at the provider's `path`.
    static func registerKeyPiece(_ fixture: LifecycleFixture, id: String = "testkeys", displayName: String = "Test Keys",
                                 path: String = "/validate") async throws {
        let piece = try JSONDecoder().decode(PieceDefinition.self, from: Data(#"""
            {"id": "\#(id)", "displayName": "\#(displayName)", "authType": "api-key",
             "validation": {"method": "GET", "url": "\#(fixture.baseURL)\#(path)",
                            "credential": {"in": "header", "name": "Authorization", "value": "Bearer {apiKey}"}, "validStatuses": [200]}}
            """#.utf8))
        var none: [UInt8]?
        _ = try await fixture.log.service.registerPiece(piece, clientSecret: &none, in: "acme", context: fixture.context(.member("alice")))
    }

    @Test func aKeyTheProviderRejectsIsRefusedOnCreateAndReconnectWithNothingAppended() async throws {
        try await TestOAuthProvider().serve { baseURL in
            let fixture = try await LifecycleFixture(baseURL: baseURL)
            try await Self.registerKeyPiece(fixture)
            let service = fixture.lifecycle.service
            let before = try await fixture.log.eventCount()
            var wrong = Array(#"{"apiKey":"sk-wrong-9876"}"#.utf8)
            do {
                _ = try await service.createConnection(projectId: "acme", piece: "testkeys", authType: .apiKey, name: "Keys",
                                                       credentials: &wrong, context: fixture.context(.member("bob")))
                Issue.record("a rejected key was accepted")
            } catch let error as DomainError {
                // The provider's answer, without the key it echoed.
                #expect(error.description.contains("Test Keys refused the credential (HTTP 401") && error.description.contains("[redacted]"))
                #expect(!error.description.contains("sk-wrong-9876"))
            }
            #expect(try await fixture.log.eventCount() == before)

            var right = Array(#"{"apiKey":"\#(TestOAuthProvider.validKey)"}"#.utf8)
            let created = try await service.createConnection(projectId: "acme", piece: "testkeys", authType: .apiKey, name: "Keys",
                                                             credentials: &right, context: fixture.context(.member("bob")))
            let id = try #require(created.stream.connectionId)
            let afterCreate = try await fixture.log.eventCount()
            var stillWrong = Array(#"{"apiKey":"sk-wrong-again"}"#.utf8)
            await #expect(throws: DomainError.self) {
                _ = try await service.reconnect(id, credentials: &stillWrong, context: fixture.context(.member("alice")))
            }
            #expect(try await fixture.log.eventCount() == afterCreate)
            // The refusals are in the audit trail, without the key.
            let refusals = try await fixture.log.store.refusals()
            #expect(refusals.count == 2 && refusals.allSatisfy { !$0.reason.contains("sk-wrong") })
        }
    }

    @Test func theSweeperRefreshesAheadOfExpiryAndDailyAndExpiresLapsedKeys() async throws {
        let provider = TestOAuthProvider()
        provider.set { $0.liveRefreshTokens = ["rt-soon", "rt-idle"] }
        try await provider.serve { baseURL in
            let fixture = try await LifecycleFixture(baseURL: baseURL)
            let soon = try await fixture.oauth2Connection(refreshToken: "rt-soon", expiresIn: 10 * 60)
            let idle = try await fixture.oauth2Connection(refreshToken: "rt-idle", expiresIn: 50 * 3600)
            let noRefresh = try await fixture.oauth2Connection(refreshToken: nil, expiresIn: 60)
            func key(_ name: String, expiresIn seconds: Int64) async throws -> String {
                let expiry = Timestamp(microseconds: fixture.now.microseconds + seconds * 1_000_000).iso8601
                var json = Array(#"{"apiKey":"k-\#(name)","expiresAt":"\#(expiry)"}"#.utf8)
                return try await fixture.log.service.createConnection(projectId: "acme", piece: "hubspot", authType: .apiKey, name: name,
                                                                      credentials: &json, context: fixture.context(.member("bob"))).stream.connectionId ?? ""
            }
            let lapsing = try await key("lapsing", expiresIn: 120)
            let lasting = try await key("lasting", expiresIn: 30 * 86_400)

            // Listing what expires within 7 days.
            let week = try await fixture.lifecycle.expiring(before: Timestamp(microseconds: fixture.now.microseconds + 7 * 86_400_000_000),
                                                            projects: ["acme"])
            #expect(week.map(\.id) == [noRefresh, lapsing, soon, idle])
            #expect(week.first { $0.id == noRefresh }?.renewsItself == false && week.first { $0.id == soon }?.renewsItself == true)

            let first = try await fixture.lifecycle.sweeper.sweep(now: fixture.now)
            #expect(first.refreshed == [soon] && first.expired.isEmpty && first.errors.isEmpty)

            fixture.advance(25 * 3600)  // a day later: the idle one is refreshed, the lapsed ones expired
            let second = try await fixture.lifecycle.sweeper.sweep(now: fixture.now)
            // `soon` again (its new token lived an hour), `idle` because a day passed since its credential was set.
            #expect(Set(second.refreshed) == [idle, soon])
            #expect(second.expired[lapsing]?.contains("the API key's expiry date") == true)
            #expect(second.expired[noRefresh]?.contains("cannot be renewed") == true)
            #expect(second.expired[lasting] == nil)
            #expect(try await fixture.state(lasting)?.status == .active)
            #expect(try await fixture.eventTypes(idle) == ["connection.created", "connection.token-refreshed"])
            if case .inactive(let why)? = try await fixture.state(lapsing)?.status {
                #expect(why.kind == .expired)
            } else {
                Issue.record("the lapsed key is still active")
            }

            // A sweep with nothing due appends nothing.
            let count = try await fixture.log.eventCount()
            _ = try await fixture.lifecycle.sweeper.sweep(now: fixture.now)
            #expect(try await fixture.log.eventCount() == count)
        }
    }

    @Test func aPieceWithoutARegisteredClientIsNotRefreshedAndExpiresOnlyWhenItsTokenDoes() async throws {
        try await TestOAuthProvider().serve { baseURL in
            let fixture = try await LifecycleFixture(baseURL: baseURL)
            func gmail(expiresIn seconds: Int64) async throws -> String {
                let expiry = Timestamp(microseconds: fixture.now.microseconds + seconds * 1_000_000).iso8601
                var json = Array(#"{"accessToken":"a","refreshToken":"r","expiresAt":"\#(expiry)"}"#.utf8)
                return try await fixture.log.service.createConnection(projectId: "acme", piece: "gmail", authType: .oauth2, name: "G",
                                                                      credentials: &json, context: fixture.context(.member("bob"))).stream.connectionId ?? ""
            }
            let valid = try await gmail(expiresIn: 5 * 86_400)
            let lapsing = try await gmail(expiresIn: 60)
            let expiring = try await fixture.lifecycle.expiring(before: Timestamp(microseconds: fixture.now.microseconds + 7 * 86_400_000_000),
                                                                projects: nil)
            #expect(expiring.map(\.id) == [lapsing, valid] && expiring.allSatisfy { !$0.renewsItself },
                    "a refresh token without a registered client renews nothing")
            fixture.advance(25 * 3600)
            let report = try await fixture.lifecycle.sweeper.sweep(now: fixture.now)
            #expect(report.unrenewable[valid]?.contains("no OAuth2 client is registered for gmail") == true)
            #expect(try await fixture.state(valid)?.status == .active)
            #expect(report.expired[lapsing]?.contains("cannot be renewed") == true && report.errors.isEmpty)
            // The engine still gets the valid one's token (nothing to refresh it with).
            #expect(try await fixture.engineRead(valid)["accessToken"] as? String == "a")
        }
    }
}
