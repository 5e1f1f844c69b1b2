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

    /// Text that COPY's text format must escape, or that looks like its own syntax.
    static let awkwardTexts = ["tab\there", "line\nbreak", "carriage\rreturn", "back\\slash", "\\N", "\\.", "\\x00", "", " ", "a\t\\n\\\\b"]

    /// ``SQLSession/insert(into:columns:rows:)`` writes every row as given, whatever the path: few
    /// rows as `INSERT`s, many with `COPY` on PostgreSQL, one prepared row at a time on SQLite.
    @Test(arguments: TestBackend.available, [3, 200])
    func rowsInsertedTogetherReadBackAsGiven(backend: TestBackend, count: Int) async throws {
        let log = try await TemporaryLog(backend: backend)
        let rows: [[SQLValue]] = (0..<count).map { n in
            let value = Self.values[n % Self.values.count]
            let text = Self.awkwardTexts[n % Self.awkwardTexts.count]
            return [.integer(Int64(n)), .text(text + "\(n)"), n % 5 == 0 ? .null : value,
                    .blob(Data([UInt8(n % 256), 0x5c, 0x09, 0x0a, 0x00]))]
        }
        let read = try await log.database.write { db -> [[SQLValue]] in
            try db.execute(sql: db.dialect.tableDefinition("CREATE TABLE bulk (n INTEGER PRIMARY KEY, t TEXT NOT NULL, v TEXT, b BLOB NOT NULL)"))
            // `v` is text on both backends: each value goes in as its text form.
            let asText = rows.map { row in [row[0], row[1], Self.textForm(row[2]), row[3]] }
            try db.insert(into: "bulk", columns: ["n", "t", "v", "b"], rows: asText)
            return try db.fetchAll(sql: "SELECT n, t, v, b FROM bulk ORDER BY n").map(\.values)
        }
        #expect(read == rows.map { row in [row[0], row[1], Self.textForm(row[2]), row[3]] })
    }

    /// A row the table refuses fails the whole insert, the transaction writes nothing, and the
    /// connection serves the next transaction.
    @Test(arguments: TestBackend.available, [3, 200])
    func aRefusedRowAmongManyWritesNothing(backend: TestBackend, count: Int) async throws {
        let log = try await TemporaryLog(backend: backend)
        try await log.database.write { db in try db.execute(sql: db.dialect.tableDefinition("CREATE TABLE unique_rows (n INTEGER PRIMARY KEY, t TEXT)")) }
        let rows: [[SQLValue]] = (0..<count).map { [.integer(Int64($0)), .text("row \($0)")] } + [[.integer(1), .text("again")]]
        await #expect(throws: (any Error).self) {
            try await log.database.write { db in
                try db.execute(sql: "INSERT INTO unique_rows (n, t) VALUES (?, ?)", arguments: [-1, "before"])
                try db.insert(into: "unique_rows", columns: ["n", "t"], rows: rows)
            }
        }
        let mismatched: [[SQLValue]] = Array(repeating: [.integer(1)], count: count)
        await #expect(throws: StoreError.database(sqlState: "22023", message: "a statement was given the wrong number of arguments")) {
            try await log.database.write { db in try db.insert(into: "unique_rows", columns: ["n", "t"], rows: mismatched) }
        }
        #expect(try await log.database.read { try $0.fetchValue(sql: "SELECT COUNT(*) FROM unique_rows") as Int? } == 0)
        try await log.database.write { db in try db.insert(into: "unique_rows", columns: ["n", "t"], rows: Array(rows.dropLast())) }
        #expect(try await log.database.read { try $0.fetchValue(sql: "SELECT COUNT(*) FROM unique_rows") as Int? } == count)
    }

    /// A value as the text a `TEXT` column keeps of it (NULL stays NULL).
    static func textForm(_ value: SQLValue) -> SQLValue {
        switch value {
        case .null: .null
        case .text: value
        case .integer(let integer): .text(String(integer))
        case .real(let real): .text(String(real))
        case .blob(let data): .text(Array(data).hex)
        }
    }
}
