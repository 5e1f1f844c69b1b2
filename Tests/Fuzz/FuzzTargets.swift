import CredlogDomain
import CredlogEvents
@testable import CredlogLifecycle
@testable import CredlogProjections
import Foundation

/// What each fuzz target does with one input. Every target checks a property, not only that
/// nothing trapped: what decodes re-encodes to the same thing, what passes a rule passes it again.
enum FuzzTargets {
    static let all: [String: @Sendable ([UInt8]) -> Void] = [
        "event-decoder": eventDecoder, "credentials": credentials, "times-and-text": timesAndText, "token-answer": tokenAnswer,
    ]

    /// A stored event: the first byte picks a type and schema version, the rest is its payload
    /// (as a row written by someone else would hold). Whatever decodes must round-trip.
    static func eventDecoder(_ input: [UInt8]) {
        let types = [
            ConnectionEvent.TypeName.created, ConnectionEvent.TypeName.reconnected, ConnectionEvent.TypeName.renamed,
            ConnectionEvent.TypeName.expired, ConnectionEvent.TypeName.revoked, ConnectionEvent.TypeName.deleted,
            ConnectionEvent.TypeName.attachedToFlow, ConnectionEvent.TypeName.detachedFromFlow,
            ConnectionEvent.TypeName.tokenRefreshed, ConnectionEvent.TypeName.credentialsResealed, ConnectionEvent.TypeName.expiryWarned,
            ConnectionEvent.TypeName.checked,
            MembershipEvent.TypeName.memberAdded, MembershipEvent.TypeName.roleChanged, MembershipEvent.TypeName.memberRemoved,
            MembershipEvent.TypeName.pieceRegistered, MembershipEvent.TypeName.webhookAdded, MembershipEvent.TypeName.webhookRemoved,
            MembershipEvent.TypeName.tokenIssued, MembershipEvent.TypeName.tokenRevoked, MembershipEvent.TypeName.tokenRotated,
        ]
        guard let selector = input.first else { return }
        let type = types[Int(selector) % types.count]
        let version = Int(selector / UInt8(types.count)) % 3 + 1
        let payload = Data(input.dropFirst())
        if let event = try? ConnectionEvent.decode(type: type, schemaVersion: version, payload: payload) {
            guard let stored = try? event.encode(),
                  let again = try? ConnectionEvent.decode(type: stored.type, schemaVersion: stored.schemaVersion, payload: stored.payload),
                  again == event else { fatalError("a connection event did not round-trip") }
            _ = ConnectionState.evolve(.none, event)
        }
        if let event = try? MembershipEvent.decode(type: type, schemaVersion: version, payload: payload) {
            guard let stored = try? event.encode(),
                  let again = try? MembershipEvent.decode(type: stored.type, schemaVersion: stored.schemaVersion, payload: stored.payload),
                  again == event else { fatalError("a membership event did not round-trip") }
            _ = ProjectState.evolve(.initial, event)
        }
    }

    /// Credentials as people send them, under every auth type: what passes, passes again as it
    /// was made canonical, to the same canonical bytes.
    static func credentials(_ input: [UInt8]) {
        for authType in AuthType.allCases {
            guard let checked = try? CredentialRules.check(input, as: authType) else { continue }
            guard let again = try? CredentialRules.check(checked.canonical, as: authType), again.canonical == checked.canonical else {
                fatalError("canonical credentials of \(authType) did not pass again unchanged")
            }
        }
    }

    /// Times, spans, cursors, names, reasons, search terms and request tags as people type them.
    static func timesAndText(_ input: [UInt8]) {
        let text = String(decoding: input, as: UTF8.self)
        if let time = Timestamp(iso8601: text) {
            guard Timestamp(iso8601: time.iso8601) == time else { fatalError("a parsed time did not print and parse back") }
            _ = time + .seconds(Int64.max)
            _ = time - .seconds(Int64.max)
        }
        if let span = TimeSpan(text) { guard TimeSpan(span.description) == span else { fatalError("a span did not round-trip") } }
        for sort in ConnectionList.Sort.allCases { _ = try? ConnectionList.Cursor(decoding: text, for: sort) }
        for rule in [DisplayText.connectionName, DisplayText.reason, DisplayText.searchTerm] {
            if let valid = try? rule.validate(text) {
                guard (try? rule.validate(valid)) == valid else { fatalError("valid text did not stay valid") }
            }
            let fitted = rule.fitting(text)
            guard (try? rule.validate(fitted)) == fitted else { fatalError("fitted text is not valid") }
        }
        _ = try? RequestTag.validate(text, what: "tag")
        nameIndexKeepsAndForgets(text.lowercased())
    }

    /// A name in the search index is listed under each of its trigrams and contains its own
    /// pieces; once removed, nothing of it is left.
    static func nameIndexKeepsAndForgets(_ key: String) {
        var names = ProjectNames()
        names.set("c1", key: key)
        for trigram in Trigram.all(of: key) where names.postings[trigram] != [0] { fatalError("a trigram lost its name") }
        let scalars = Array(key.unicodeScalars)
        if scalars.count >= 3 {
            let piece = String(String.UnicodeScalarView(scalars[(scalars.count / 3)...]))
            guard NameSearchIndex.contains(key, piece) else { fatalError("a name does not contain its own end") }
        }
        names.set("c1", key: nil)
        guard names.postings.isEmpty, names.slots.isEmpty else { fatalError("a removed name left something behind") }
    }

    /// A token endpoint's answer, however hostile: never a trap, the lifetime always clamped.
    static func tokenAnswer(_ input: [UInt8]) {
        _ = ProviderReason.from(input, secrets: ["secret-1234"])
        guard let grant = try? JSONDecoder().decode(TokenGrant.self, from: Data(input)) else { return }
        if let lifetime = grant.expiresIn, !TokenGrant.lifetimeBounds.contains(lifetime) { fatalError("an unclamped lifetime") }
        _ = try? grant.credentialJSON(now: Timestamp(microseconds: 1_800_000_000_000_000), previousRefreshToken: "rt")
    }
}
