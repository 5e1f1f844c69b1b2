import CredlogEvents
import CredlogTestSupport
import Foundation
import Testing

/// The connection events' Foundation-free codec (``JSONWriter``, ``JSONValue``) against the
/// `Codable` definition of the format, over random events of every type and schema version.
@Suite("Payload codec")
struct PayloadCodecTests {
    @Test func everyRandomEventEncodesToTheCodableBytesAndDecodesBack() throws {
        var random = CodecRandom(seed: 15)
        for _ in 0..<3_000 {
            let event = random.event()
            let stored = try event.encode()
            let reference = try CodableReference.encode(event)
            #expect(stored.payload == reference,
                    "\(event): \(String(decoding: stored.payload, as: UTF8.self)) != \(String(decoding: reference, as: UTF8.self))")
            #expect(stored.type == event.typeName)
            #expect(stored.schemaVersion == (event.typeName == ConnectionEvent.TypeName.expired ? 2 : 1))
            #expect(try ConnectionEvent.decode(type: stored.type, schemaVersion: stored.schemaVersion, payload: stored.payload) == event)
            #expect(try CodableReference.decode(type: stored.type, schemaVersion: stored.schemaVersion, payload: reference) == event)
        }
    }

    @Test func version1ExpiredEventsAreUpcastAsTheCodableUpcasterDid() throws {
        var random = CodecRandom(seed: 1)
        for _ in 0..<500 {
            let payload = try CodableReference.encoder.encode(["message": random.text()])
            let fast = try ConnectionEvent.decode(type: ConnectionEvent.TypeName.expired, schemaVersion: 1, payload: payload)
            #expect(fast == (try CodableReference.decode(type: ConnectionEvent.TypeName.expired, schemaVersion: 1, payload: payload)))
        }
    }

    /// Rows written by someone else: payloads edited at random (bytes dropped, replaced,
    /// inserted; fields of the wrong type). Both decoders accept the same ones, with the same result.
    @Test func editedPayloadsDecodeAsTheCodableDecoderDecodesThem() throws {
        var random = CodecRandom(seed: 7)
        var accepted = 0, refused = 0
        for _ in 0..<6_000 {
            let event = random.event()
            let stored = try event.encode()
            let payload = random.edit(stored.payload)
            let fast = Result { try ConnectionEvent.decode(type: stored.type, schemaVersion: stored.schemaVersion, payload: payload) }
            let reference = Result { try CodableReference.decode(type: stored.type, schemaVersion: stored.schemaVersion, payload: payload) }
            switch (fast, reference) {
            case (.success(let a), .success(let b)):
                #expect(a == b, "\(String(decoding: payload, as: UTF8.self))")
                accepted += 1
            case (.failure(let error), .failure):
                #expect(error is EventDecodingError)
                refused += 1
            default:
                Issue.record("the decoders disagree on \(Array(payload)) (\(String(decoding: payload, as: UTF8.self))): fast \(fast), Codable \(reference)")
            }
        }
        #expect(accepted > 500 && refused > 500, "the edits exercise both outcomes: \(accepted) accepted, \(refused) refused")
    }

    @Test func hostileDocumentsAreRefusedWithoutTrapping() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        for text in [deep, "", "{", #"{"a":"\ud800"}"#, #"{"a":"\u12"}"#, "{\"a\":\"\u{01}\"}", #"{"a":1.}"#, #"{"a":-}"#, "{} x", "nul"] {
            #expect(throws: JSONSyntaxError.self, "\(text.prefix(20))") { try JSONValue.parse(Data(text.utf8)) }
        }
        #expect(throws: JSONSyntaxError.self) { try JSONValue.parse(Data([0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D])) }
        #expect((try? JSONValue.parse(Data(#" {"a":[1,-2.5e3,true,null,"\u00e9\ud83d\ude00"],"a":2} "#.utf8)))
                == .object(JSONObject(members: [
                    .init(name: "a", value: .array([.number("1"), .number("-2.5e3"), .bool(true), .null, .string("é😀")])),
                    .init(name: "a", value: .number("2")),
                ])))
    }
}

/// The format as the payload types' `Codable` conformances define it (what credlog used
/// before the codec, with `JSONEncoder`'s sorted keys and unescaped slashes).
enum CodableReference {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static func encode(_ event: ConnectionEvent) throws -> Data {
        switch event {
        case .created(let payload): try encoder.encode(payload)
        case .reconnected(let payload): try encoder.encode(payload)
        case .renamed(let payload): try encoder.encode(payload)
        case .expired(let payload), .revoked(let payload): try encoder.encode(payload)
        case .deleted: Data("{}".utf8)
        case .attachedToFlow(let payload), .detachedFromFlow(let payload): try encoder.encode(payload)
        case .tokenRefreshed(let payload): try encoder.encode(payload)
        case .credentialsResealed(let payload): try encoder.encode(payload)
        case .expiryWarned(let payload): try encoder.encode(payload)
        case .checked(let payload): try encoder.encode(payload)
        }
    }

    struct ExpiredV1: Decodable { var message: String }
    struct UnknownType: Error {}

    static func decode(type: String, schemaVersion: Int, payload: Data) throws -> ConnectionEvent {
        func body<T: Decodable>(_ shape: T.Type) throws -> T { try JSONDecoder().decode(shape, from: payload) }
        typealias Event = ConnectionEvent
        switch (type, schemaVersion) {
        case (Event.TypeName.created, 1): return .created(try body(Event.Created.self))
        case (Event.TypeName.reconnected, 1): return .reconnected(try body(Event.Reconnected.self))
        case (Event.TypeName.renamed, 1): return .renamed(try body(Event.Renamed.self))
        case (Event.TypeName.expired, 1): return .expired(.init(reason: try body(ExpiredV1.self).message))
        case (Event.TypeName.expired, 2): return .expired(try body(Event.Deactivated.self))
        case (Event.TypeName.revoked, 1): return .revoked(try body(Event.Deactivated.self))
        case (Event.TypeName.deleted, 1): return .deleted
        case (Event.TypeName.attachedToFlow, 1): return .attachedToFlow(try body(Event.FlowLink.self))
        case (Event.TypeName.detachedFromFlow, 1): return .detachedFromFlow(try body(Event.FlowLink.self))
        case (Event.TypeName.tokenRefreshed, 1): return .tokenRefreshed(try body(Event.TokenRefreshed.self))
        case (Event.TypeName.credentialsResealed, 1): return .credentialsResealed(try body(Event.CredentialsResealed.self))
        case (Event.TypeName.expiryWarned, 1): return .expiryWarned(try body(Event.ExpiryWarning.self))
        case (Event.TypeName.checked, 1): return .checked(try body(Event.Check.self))
        default: throw UnknownType()
        }
    }
}

/// Random events and edits, from a seeded generator (a failure replays from its seed).
struct CodecRandom {
    var generator: SeededRandom
    init(seed: UInt64) { generator = SeededRandom(seed: seed) }

    mutating func next() -> UInt64 { generator.next() }

    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    /// Text with what JSON must escape, what it must not, and scripts beyond ASCII.
    mutating func text() -> String {
        let pieces = ["a", "Gmail", " ", "\"", "\\", "/", "\n", "\t", "\r", "\u{08}", "\u{0C}", "\u{00}", "\u{1F}", "\u{7F}", "é",
                      "日本語", "😀", "\u{2028}", "\u{FEFF}", "{", "}", ":", ",", "[", "null", "0", "-1e5", "'; DROP TABLE x; --"]
        return (0..<below(8)).map { _ in pieces[below(pieces.count)] }.joined()
    }

    mutating func optionalText() -> String? { below(3) == 0 ? nil : text() }

    mutating func credentials() -> SealedCredentials {
        SealedCredentials(authType: AuthType.allCases[below(AuthType.allCases.count)], keyId: text(), box: text(), fingerprint: text(),
                          expiresAt: optionalText(), refreshable: [nil, true, false][below(3)], issuedAt: optionalText())
    }

    mutating func event() -> ConnectionEvent {
        switch below(12) {
        case 0: .created(.init(connectionId: text(), projectId: text(), piece: text(), authType: AuthType.allCases[below(4)],
                               name: text(), credentials: credentials()))
        case 1: .reconnected(.init(credentials: credentials()))
        case 2: .renamed(.init(from: text(), to: text()))
        case 3: .expired(.init(reason: text()))
        case 4: .revoked(.init(reason: text()))
        case 5: .deleted
        case 6: .attachedToFlow(.init(flowId: text()))
        case 7: .detachedFromFlow(.init(flowId: text()))
        case 8: .tokenRefreshed(.init(credentials: credentials(), previousFingerprint: text()))
        case 9: .credentialsResealed(.init(credentials: credentials()))
        case 10: .checked(.init(credentialFingerprint: text(), passed: below(2) == 0, httpStatus: [200, 401, 0, 599, -1][below(5)],
                                reason: optionalText()))
        default: .expiryWarned(.init(webhookId: text(), credentialFingerprint: text(), expiresAt: text(),
                                     daysAhead: [0, 1, 7, 90, -3, Int.max, Int.min][below(7)]))
        }
    }

    /// The payload with one random edit.
    mutating func edit(_ payload: Data) -> Data {
        var bytes = Array(payload)
        let tokens = [" ", "\n", ",", "}", "{", "\"", "null", "true", "1", "-0.5e2", "[]", "\\u00e9", "\\ud800", "\u{01}", "\"x\":\"y\","]
        let at = bytes.isEmpty ? 0 : below(bytes.count)
        switch below(5) {
        case 0 where !bytes.isEmpty: bytes.remove(at: at)
        case 1 where !bytes.isEmpty: bytes[at] = UInt8(truncatingIfNeeded: next())
        case 2: bytes.insert(contentsOf: Array(tokens[below(tokens.count)].utf8), at: at)
        case 3:
            // A field's string value replaced by another JSON value.
            if let colon = bytes.indices.filter({ bytes[$0] == UInt8(ascii: ":") }).randomElement(using: &self), colon + 1 < bytes.count,
               bytes[colon + 1] == UInt8(ascii: "\""),
               let end = bytes[(colon + 2)...].indices.first(where: { bytes[$0] == UInt8(ascii: "\"") && bytes[$0 - 1] != UInt8(ascii: "\\") }) {
                bytes.replaceSubrange((colon + 1)...end, with: Array(["null", "true", "12", "{}", "[\"a\"]"][below(5)].utf8))
            }
        default: break
        }
        return Data(bytes)
    }
}

extension CodecRandom: RandomNumberGenerator {}
