import CredlogDomain
import CredlogEvents
import CredlogLifecycle
import CredlogTestSupport
import Foundation
import Testing

/// An authorization started from the page is bound to the browser that started it: a consent URL
/// sent to someone else cannot connect their account to the sender's project.
@Suite("OAuth2 browser binding")
struct OAuth2BindingTests {
    @Test func aCallbackFromAnotherBrowserIsAnUnknownStateAndAppendsNothing() async throws {
        let provider = TestOAuthProvider()
        try await provider.serve { baseURL in
            let fixture = try await LifecycleFixture(baseURL: baseURL)
            let flow = fixture.lifecycle.oauth2
            let request = OAuth2Flow.Request(projectId: "acme", memberId: "bob", piece: "testmail", name: "Mail", connectionId: nil)
            let before = try await fixture.log.eventCount()

            // The attacker starts the flow in their browser and sends the consent URL to a victim,
            // who consents: the victim's browser brings the code back, without the attacker's cookie.
            let stolen = try await flow.start(request, now: fixture.now, browserBinding: "attacker-browser")
            let victims = try await consent(at: stolen.authorizationUrl)
            let query = try #require(URLComponents(string: "http://x" + victims)?.queryItems)
            for presented in [nil, "victim-browser"] as [String?] {
                await #expect(throws: OAuth2Flow.Failure.unknownState) {
                    _ = try await flow.complete(state: query.first { $0.name == "state" }?.value, code: query.first { $0.name == "code" }?.value,
                                                error: nil, errorDescription: nil, now: fixture.now, browserBinding: presented)
                }
            }
            #expect(try await fixture.log.eventCount() == before, "nothing appended")
            #expect(provider.codeGrants == 0, "the code was never exchanged")

            // The same flow in one browser connects.
            let own = try await flow.start(request, now: fixture.now, browserBinding: "bobs-browser")
            let back = try #require(URLComponents(string: "http://x" + (try await consent(at: own.authorizationUrl)))?.queryItems)
            let completed = try await flow.complete(state: back.first { $0.name == "state" }?.value, code: back.first { $0.name == "code" }?.value,
                                                    error: nil, errorDescription: nil, now: fixture.now, browserBinding: "bobs-browser")
            #expect(completed.created && provider.codeGrants == 1)
        }
    }

    @Test func aProvidersErrorTextIsSanitised() async throws {
        let provider = TestOAuthProvider()
        try await provider.serve { baseURL in
            let fixture = try await LifecycleFixture(baseURL: baseURL)
            let flow = fixture.lifecycle.oauth2
            let started = try await flow.start(.init(projectId: "acme", memberId: "bob", piece: "testmail", name: "Mail", connectionId: nil),
                                               now: fixture.now)
            do {
                _ = try await flow.complete(state: started.state, code: nil, error: "access_denied\u{202E}<script>",
                                            errorDescription: String(repeating: "x", count: 5000) + "\u{0}", now: fixture.now)
                Issue.record("a denied authorization completed")
            } catch let failure as OAuth2Flow.Failure {
                let text = failure.description
                #expect(!text.unicodeScalars.contains("\u{202E}") && !text.unicodeScalars.contains("\u{0}"))
                #expect(text.count < 400, "bounded: \(text.count) characters")
            }
        }
    }
}
