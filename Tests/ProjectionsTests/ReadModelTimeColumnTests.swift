import CredlogDomain
import CredlogEvents
import CredlogProjections
import CredlogTestSupport
import Testing

/// The connections read model keeps its times as `Timestamp`, stored as ISO 8601 text.
@Suite("Time columns of the connections read model", .serviceScope)
struct ReadModelTimeColumnTests {
    /// A time reads back as the instant written, and its column holds the ISO text the API and the
    /// reports show; a column edited by someone else to hold something that is not a time makes
    /// the read fail with an error (never a trap), and changes nothing.
    @Test(arguments: TestBackend.available)
    func timesReadBackAndATamperedTimeIsAnError(backend: TestBackend) async throws {
        let log = try await TemporaryLog(backend: backend, durability: .normal)
        try await log.seedProject()
        var secret = Array(#"{"apiKey":"k"}"#.utf8)
        let created = try await log.service.createConnection(projectId: "acme", piece: "billing-api", authType: .apiKey, name: "Billing",
                                                             credentials: &secret,
                                                             context: CommandContext(principal: .member("alice"), now: .now()))
        let id = try #require(created.stream.connectionId)
        let recorded: String = try #require(try await log.database.read { db in
            try db.fetchValue(sql: "SELECT recorded_at FROM events WHERE stream_id = ?", arguments: [created.stream.rawValue])
        })
        let at = try #require(Timestamp(iso8601: recorded))
        let rows = try await log.database.read { try $0.fetchAll(sql: "SELECT \(ConnectionRow.columnList) FROM connections").map(ConnectionRow.init(positional:)) }
        #expect(rows.map(\.connectedAt) == [at] && rows.map(\.statusChangedAt) == [at] && rows.map(\.credentialSetAt) == [at])
        let stored: String? = try await log.database.read { try $0.fetchValue(sql: "SELECT connected_at FROM connections") }
        #expect(stored == recorded && recorded == at.iso8601)

        try await log.database.write { db in
            try db.execute(sql: "UPDATE connections SET status_changed_at = 'yesterday' WHERE id = ?", arguments: [id])
        }
        await #expect(throws: (any Error).self) {
            _ = try await log.database.read { try $0.fetchAll(sql: "SELECT \(ConnectionRow.columnList) FROM connections").map(ConnectionRow.init(positional:)) }
        }
        let still: String? = try await log.database.read { try $0.fetchValue(sql: "SELECT status_changed_at FROM connections") }
        #expect(still == "yesterday", "reading changed nothing")
    }
}
