import CredlogEvents
import CredlogTestSupport
import Foundation
import Testing

/// What a session binds is what it reads back, on every backend: SQLite binds values straight
/// through its C API (``SQLiteSession``), so the edge cases of that binding are pinned here.
@Suite("SQL sessions bind and read values as stored", .serviceScope)
struct SQLSessionValueTests {
    static let values: [SQLValue] = [
        .text(""), .blob(Data()), .null, .integer(Int64.min), .integer(Int64.max), .real(-0.5),
        .text("naïve \u{1F511} name"), .blob(Data([0, 1, 255, 0])),
    ]

    @Test(arguments: TestBackend.available)
    func everyValueReadsBackAsBound(backend: TestBackend) async throws {
        let log = try await TemporaryLog(backend: backend)
        // PostgreSQL's text refuses the NUL character; SQLite keeps it, counted by bytes.
        let values = Self.values + (backend == .sqlite ? [.text("nul\u{0}inside")] : [])
        let read = try await log.database.write { db -> [SQLValue] in
            try db.execute(sql: db.dialect.tableDefinition("CREATE TABLE bound (n INTEGER PRIMARY KEY, t TEXT, b BLOB, i INTEGER, r REAL)"))
            for (n, value) in values.enumerated() {
                let (t, b, i, r): (SQLValue, SQLValue, SQLValue, SQLValue) = switch value {
                case .text: (value, .null, .null, .null)
                case .blob: (.null, value, .null, .null)
                case .integer: (.null, .null, value, .null)
                case .real: (.null, .null, .null, value)
                case .null: (.null, .null, .null, .null)
                }
                try db.execute(sql: "INSERT INTO bound (n, t, b, i, r) VALUES (?, ?, ?, ?, ?)", arguments: SQLArguments([.integer(Int64(n)), t, b, i, r]))
            }
            return try db.fetchAll(sql: "SELECT t, b, i, r FROM bound ORDER BY n").map { row in
                row.values.first { $0 != .null } ?? .null
            }
        }
        #expect(read == values)
        // An empty string and empty bytes are values, not NULL: the filter finds exactly those rows.
        let empties = try await log.database.read { db in
            try db.fetchAll(sql: "SELECT n FROM bound WHERE t = ? OR b IS NOT NULL AND length(b) = 0 ORDER BY n", arguments: [""])
                .map { try $0[0] as Int }
        }
        #expect(empties == [0, 1])
    }

    @Test(arguments: TestBackend.available)
    func theWrongNumberOfArgumentsIsRefusedAndWritesNothing(backend: TestBackend) async throws {
        let log = try await TemporaryLog(backend: backend)
        try await log.database.write { db in try db.execute(sql: db.dialect.tableDefinition("CREATE TABLE counted (n INTEGER NOT NULL, m INTEGER)")) }
        for arguments: SQLArguments in [[1], [1, 2, 3], []] {
            await #expect(throws: StoreError.database(sqlState: "22023", message: "a statement was given the wrong number of arguments")) {
                try await log.database.write { db in
                    try db.execute(sql: "INSERT INTO counted (n, m) VALUES (?, ?)", arguments: arguments)
                }
            }
        }
        // The same statement, from the same connection's cache, still runs with the right count.
        try await log.database.write { db in try db.execute(sql: "INSERT INTO counted (n, m) VALUES (?, ?)", arguments: [7, 8]) }
        let rows = try await log.database.read { db in
            try db.fetchAll(sql: "SELECT n, m FROM counted").map { [try $0[0] as Int, try $0[1] as Int] }
        }
        #expect(rows == [[7, 8]])
    }
}
