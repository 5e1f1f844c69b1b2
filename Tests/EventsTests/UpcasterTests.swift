import CredlogEvents
import CredlogTestSupport
import Foundation
import Testing

@Suite("Event schema versions")
struct UpcasterTests {
    /// A `connection.expired` event as credlog stored it in schema version 1: `{"message": …}`.
    static func fixture() throws -> Data {
        let url = try #require(Bundle.module.url(forResource: "connection.expired.v1", withExtension: "json", subdirectory: "Fixtures"))
        return try Data(contentsOf: url)
    }

    @Test func aStoredVersion1ExpiredEventIsUpcastOnRead() async throws {
        let log = try await TemporaryLog()
        let old = EventData(type: ConnectionEvent.TypeName.expired, schemaVersion: 1, payload: try Self.fixture())
        _ = try await log.store.append(StoreConformanceTests.request(.connection("c1"), .any, [old]))
        let stored = try #require(try await log.store.readStream(.connection("c1"), from: 1).first)
        #expect(stored.schemaVersion == 1, "old rows stay as written")
        #expect(try stored.decode(as: ConnectionEvent.self) == .expired(.init(reason: "token expired at the provider")))
    }

    @Test func newEventsAreWrittenInTheCurrentVersion() throws {
        let data = try ConnectionEvent.expired(.init(reason: "r")).encode()
        #expect(data.schemaVersion == ConnectionEvent.expiredSchemaVersion)
        #expect(String(decoding: data.payload, as: UTF8.self) == #"{"reason":"r"}"#)
        #expect(try ConnectionEvent.decode(type: data.type, schemaVersion: data.schemaVersion, payload: data.payload) == .expired(.init(reason: "r")))
    }

    @Test func everyEventRoundTrips() throws {
        let sealed = SealedCredentials(authType: .oauth2, keyId: "dk", box: "Ym94", fingerprint: "fp:1", expiresAt: "2026-12-01T00:00:00.000000Z")
        let events: [ConnectionEvent] = [
            .created(.init(connectionId: "c", projectId: "p", piece: "gmail", authType: .oauth2, name: "G", credentials: sealed)),
            .reconnected(.init(credentials: sealed)), .renamed(.init(from: "a", to: "b")), .expired(.init(reason: "x")),
            .revoked(.init(reason: "y")), .deleted, .attachedToFlow(.init(flowId: "f")), .detachedFromFlow(.init(flowId: "f")),
        ]
        for event in events {
            let data = try event.encode()
            #expect(try ConnectionEvent.decode(type: data.type, schemaVersion: data.schemaVersion, payload: data.payload) == event)
        }
        let members: [MembershipEvent] = [.memberAdded(.init(projectId: "p", memberId: "m", role: .admin)),
                                          .roleChanged(.init(memberId: "m", from: .admin, to: .member)),
                                          .memberRemoved(.init(memberId: "m"))]
        for event in members {
            let data = try event.encode()
            #expect(try MembershipEvent.decode(type: data.type, schemaVersion: data.schemaVersion, payload: data.payload) == event)
        }
    }

    @Test func unknownTypesAndVersionsAreClearErrors() {
        #expect(throws: EventDecodingError.self) { try ConnectionEvent.decode(type: "connection.exploded", schemaVersion: 1, payload: Data("{}".utf8)) }
        #expect(throws: EventDecodingError.self) { try ConnectionEvent.decode(type: ConnectionEvent.TypeName.expired, schemaVersion: 9, payload: Data("{}".utf8)) }
        #expect(throws: EventDecodingError.self) { try ConnectionEvent.decode(type: ConnectionEvent.TypeName.renamed, schemaVersion: 1, payload: Data("{}".utf8)) }
    }
}
