import CredlogDomain
import CredlogEvents
import CredlogProjections
import CredlogTestSupport
import Foundation
import Testing

/// The name search's trigram rows keep a short prefix of the name, not the whole name: a long
/// name costs a bounded number of bytes, and pages still come in name order.
@Suite("Trigram rows are bounded", .serviceScope)
struct TrigramBoundTests {
    @Test(arguments: TestBackend.available)
    func longNamesCostABoundedNumberOfBytesAndStillSortAndPage(backend: TestBackend) async throws {
        let log = try await TemporaryLog(backend: backend, durability: .normal)
        try await log.seedProject()
        // The longest names there may be, sharing their first 16 characters (the kept prefix).
        let shared = String(repeating: "ж", count: 16)
        let names = (0..<6).map { shared + String(repeating: "€", count: 170) + " tail \($0)" }
        for name in names.shuffled() { try await log.createAPIKeyConnection(named: name) }

        let (rows, longest, bytes) = try await log.database.read { db in
            (try db.fetchValue(sql: "SELECT COUNT(*) FROM connection_name_trigrams") ?? 0 as Int,
             try db.fetchValue(sql: "SELECT MAX(length(name_prefix)) FROM connection_name_trigrams") ?? 0 as Int,
             try db.fetchValue(sql: "SELECT SUM(length(name_prefix)) FROM connection_name_trigrams") ?? 0 as Int)
        }
        #expect(rows > 0 && longest == Trigrams.prefixLength)
        #expect(bytes <= rows * Trigrams.prefixLength, "each row holds at most \(Trigrams.prefixLength) characters of the name")

        // Page through a search one row at a time: every name once, in name order.
        var seen: [String] = []
        var after: String?
        repeat {
            let page = try await log.database.read { [after] db in
                try ConnectionList(projectId: "acme", search: "€€€", limit: 1, after: after).fetch(db)
            }
            seen += page.connections.map(\.name)
            after = page.nextCursor
        } while after != nil
        #expect(seen == names.sorted { $0.lowercased() < $1.lowercased() })
        let tail = try await log.database.read { db in try ConnectionList(projectId: "acme", search: "tail 3").fetch(db) }
        #expect(tail.connections.map(\.name) == [names[3]], "a term past the prefix is found")
    }
}
