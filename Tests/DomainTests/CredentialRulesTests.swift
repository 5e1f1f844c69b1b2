import CredlogDomain
import CredlogEvents
import Foundation
import Testing

@Suite("Credential field rules")
struct CredentialRulesTests {
    func check(_ json: String, _ authType: AuthType) throws(DomainError) -> CheckedCredentials {
        try CredentialRules.check(Array(json.utf8), as: authType)
    }

    @Test(arguments: [
        (#"{"apiKey":"k"}"#, AuthType.apiKey),
        (#"{"accessToken":"a"}"#, .oauth2),
        (#"{"accessToken":"a","refreshToken":"r","expiresAt":"2026-12-01T10:00:00+01:00","scopes":["mail.read"]}"#, .oauth2),
        (#"{"username":"u","password":"p"}"#, .basic),
        (#"{"tenant":"t","token":"x"}"#, .custom),
    ])
    func validCredentialsPass(json: String, authType: AuthType) throws {
        let checked = try check(json, authType)
        #expect(checked.authType == authType)
        #expect(!checked.canonical.isEmpty)
    }

    @Test func canonicalFormSortsKeysSoFingerprintsAreStable() throws {
        let a = try check(#"{"username":"u","password":"p"}"#, .basic)
        let b = try check(#"{"password":"p", "username":"u"}"#, .basic)
        #expect(a.canonical == b.canonical)
    }

    @Test func oauthExpiryIsNormalisedToUTC() throws {
        #expect(try check(#"{"accessToken":"a","expiresAt":"2026-12-01T10:00:00+01:00"}"#, .oauth2).expiresAt == "2026-12-01T09:00:00.000000Z")
    }

    @Test(arguments: [
        ("not json", AuthType.apiKey), ("[1,2]", .apiKey), (#"{"apikey":"k"}"#, .apiKey), (#"{"apiKey":""}"#, .apiKey),
        (#"{"apiKey":1}"#, .apiKey), (#"{"apiKey":"k","extra":"SENTINEL"}"#, .apiKey), (#"{"username":"u"}"#, .basic),
        (#"{"accessToken":"a","expiresAt":"tomorrow"}"#, .oauth2), (#"{"accessToken":"a","scopes":"x"}"#, .oauth2),
        ("{}", .custom), (#"{"a":1}"#, .custom), (#"{"apiKey":"k"}"#, .oauth2),
    ])
    func wrongCredentialsAreRefusedWithoutQuotingThem(json: String, authType: AuthType) {
        do {
            _ = try check(json, authType)
            Issue.record("accepted \(json)")
        } catch {
            guard case .invalid(let message) = error else { Issue.record("wrong error \(error)"); return }
            #expect(!message.contains("SENTINEL"))
        }
    }

    @Test func oversizedCredentialsAreRefused() {
        let huge = #"{"apiKey":""# + String(repeating: "k", count: CredentialRules.maxBytes) + #""}"#
        #expect(throws: DomainError.self) { _ = try check(huge, .apiKey) }
    }
}
