import CredlogEvents
import CredlogProjections
import CredlogTestSupport
import Foundation
import Testing

/// Rows of `events` written by someone else, with values of another storage class than the
/// column's (SQLite keeps what it is given): reading them is an error, never a trap.
@Suite("Hostile event rows", .serviceScope)
struct HostileEventRowTests {
    static let insert = """
        INSERT INTO events (position, stream_id, stream_version, event_id, event_type, schema_version, recorded_at, actor_id,
                            actor_role, project_id, correlation_id, causation_id, payload, hash)
        VALUES (?, ?, ?, ?, 'connection.deleted', 1, '2030-01-01T00:00:00.000000Z', 'mallory', 'admin', 'acme', 'c', 'c', ?, X'00')
        """

    @Test(arguments: [
        ("a blob stream", SQLValue.blob(Data([0xFF, 0x00])), SQLValue.integer(1), SQLValue.text("{}")),
        ("a text version", .text("connection:c1"), .text("one"), .text("{}")),
        ("a blob version", .text("connection:c1"), .blob(Data([1])), .text("{}")),
    ])
    func aValueOfTheWrongStorageClassIsAnError(what: String, stream: SQLValue, version: SQLValue, payload: SQLValue) async throws {
        let log = try await TemporaryLog(durability: .normal)
        try await log.seedProject()
        let head = try await log.store.headPosition()
        try await log.database.write { db in
            try db.execute(sql: Self.insert, arguments: SQLArguments([.integer(head + 1), stream, version, .text(UUID().uuidString), payload]))
        }
        let readable = try await log.store.readAll(from: 1, limit: Int(head))
        #expect(readable.count == Int(head), "\(what): the rows before it read as before")
        await #expect(throws: UnexpectedRow.self, "\(what)") { _ = try await log.store.readAll(from: head + 1, limit: 1) }
        await #expect(throws: UnexpectedRow.self, "\(what)") {
            _ = try await ReadModelsAsOf.fold(log.database, upTo: Timestamp(iso8601: "2031-01-01T00:00:00Z")!)
        }
    }

    /// The id, time and type are read from the row's bytes: a type credlog does not write keeps
    /// its spelling, a time in another ISO 8601 form is that instant, and a malformed id or time
    /// makes the row corrupt.
    @Test func idTimeAndTypeAreReadFromTheRowsBytes() async throws {
        let log = try await TemporaryLog(durability: .normal)
        try await log.seedProject()
        let head = try await log.store.headPosition()
        let id = UUID()
        let insert = """
            INSERT INTO events (position, stream_id, stream_version, event_id, event_type, schema_version, recorded_at, actor_id,
                                actor_role, project_id, correlation_id, causation_id, payload, hash)
            VALUES (?, ?, 1, ?, 'acme.audit-note', 1, ?, 'mallory', 'admin', 'acme', 'c', 'c', '{}', X'00')
            """
        try await log.database.write { db in
            try db.execute(sql: insert, arguments: [head + 1, "notes:1", id.uuidString.lowercased(), "2030-01-01T01:00:00+01:00"])
            try db.execute(sql: insert, arguments: [head + 2, "notes:2", "not-a-uuid", "2030-01-01T00:00:00.000000Z"])
            try db.execute(sql: insert, arguments: [head + 3, "notes:3", UUID().uuidString, "2030-02-30T00:00:00.000000Z"])
        }
        let read = try #require(try await log.store.readAll(from: head + 1, limit: 1).first)
        #expect(read.type == "acme.audit-note")
        #expect(read.eventId == id)
        #expect(read.recordedAt == Timestamp(iso8601: "2030-01-01T00:00:00Z"))
        for position in [head + 2, head + 3] {
            await #expect(throws: CorruptEventRow.self, "position \(position)") { _ = try await log.store.readAll(from: position, limit: 1) }
        }
    }
}
