import CredlogDomain
import CredlogEvents
import CredlogTestSupport
import Foundation
import Testing

/// Names, reasons and request tags from hostile callers: bounded in bytes and code points, not
/// only in characters, and free of characters that make an audit line lie.
@Suite("Hostile text")
struct HostileTextTests {
    /// One letter and 12,000 combining marks: one character, 24 KB.
    static let zalgo = "a" + String(repeating: "\u{0301}", count: 12_000)

    @Test(arguments: [
        (zalgo, "Unicode code points"),
        (String(repeating: "😀", count: 201), "bytes of UTF-8"),
        ("Payroll\u{202E}lanigiro", "invisible formatting character"),
        ("ad\u{200B}min", "invisible formatting character"),
        ("line\u{2028}break", "line or paragraph separator"),
        ("b\u{FEFF}om", "invisible formatting character"),
        ("nul\u{0}byte", "control character"),
        ("bad \u{FFFD} bytes", "U+FFFD"),
    ])
    func namesAreRefusedWithAClearReason(name: String, reason: String) throws {
        #expect(throws: DomainError.self) { try ConnectionName.validate(name) }
        do {
            _ = try ConnectionName.validate(name)
        } catch {
            #expect(error.description.contains(reason), "\(error.description)")
        }
    }

    @Test func ordinaryNamesInAnyScriptPass() throws {
        for name in ["Gmail - Support", "Zoë's Slack", "営業チーム", "Ελληνικά", "  trimmed  ", String(repeating: "é", count: 200),
                     "Thumbs 👍🏽"] {
            #expect(try ConnectionName.validate(name) == name.trimmingCharacters(in: .whitespaces))
        }
    }

    @Test func aHostileNameAppendsNothingAndWritesAtMostTheRefusal() async throws {
        let log = try await TemporaryLog()
        try await log.seedProject()
        var secret = Array(#"{"apiKey":"k-1"}"#.utf8)
        let created = try await log.service.createConnection(projectId: "acme", piece: "hubspot", authType: .apiKey, name: "Gmail",
                                                             credentials: &secret, context: CommandContext(principal: .member("bob")))
        let id = try #require(created.stream.connectionId)
        let before = try await log.allEvents()
        for name in [Self.zalgo, "Payroll\u{202E}lanigiro"] {
            await #expect(throws: DomainError.self) {
                _ = try await log.service.rename(id, to: name, context: CommandContext(principal: .member("alice")))
            }
        }
        #expect(try await log.allEvents() == before)
        let refusals = try await log.store.refusals()
        #expect(refusals.count == 2 && refusals.allSatisfy { $0.reason.utf8.count < 300 }, "the refusal does not copy the name")
    }

    @Test func reasonsWrittenFromAProvidersTextAreMadeToFit() throws {
        let fitted = DisplayText.reason.fitting("bad\u{202E}token " + Self.zalgo)
        #expect(try DisplayText.reason.validate(fitted) == fitted)
        #expect(!fitted.unicodeScalars.contains("\u{202E}"))
        #expect(DisplayText.reason.fitting("\u{200B}\u{200B}") == "(no reason given)")
    }

    @Test func requestTagsAreShortVisibleASCII() throws {
        #expect(try RequestTag.validate("run-4812", what: "x") == "run-4812")
        for bad in ["", String(repeating: "k", count: 70_000), "has space", "tab\tchar", "é"] {
            #expect(throws: DomainError.self) { try RequestTag.validate(bad, what: "x") }
        }
    }
}
