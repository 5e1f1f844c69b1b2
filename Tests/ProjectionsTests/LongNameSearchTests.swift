import CredlogDomain
import CredlogEvents
import CredlogProjections
import CredlogTestSupport
import Foundation
import Testing

/// The longest names there may be, sharing a long prefix: a search pages through them one row at
/// a time in name order, and finds a term at their very end.
@Suite("Long names in the name search", .serviceScope)
struct LongNameSearchTests {
    @Test(arguments: TestBackend.available)
    func longNamesSortAndPage(backend: TestBackend) async throws {
        let log = try await TemporaryLog(backend: backend, durability: .normal)
        try await log.seedProject()
        let shared = String(repeating: "ж", count: 16)
        let names = (0..<6).map { shared + String(repeating: "€", count: 170) + " tail \($0)" }
        for name in names.shuffled() { try await log.createAPIKeyConnection(named: name) }

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
