import CredlogDomain
import CredlogEvents
import CredlogProjections
import CredlogTestSupport
import Foundation
import Testing

@Suite("As-of reports folded in memory equal the tables rebuilt as of the same moment", .serviceScope)
struct ReadModelsAsOfTests {
    /// At random moments of a random history (before the first event, between events, on an
    /// event's exact time, after the last), every report folded in memory equals the same report
    /// read from a scratch database holding the log up to then with every projection rebuilt.
    @Test(arguments: TestBackend.available, [11, 12, 13] as [UInt64])
    func foldedReportsEqualReportsOfTheRebuiltTables(backend: TestBackend, seed: UInt64) async throws {
        let log = try await TemporaryLog(backend: backend, durability: .normal)
        var history = RandomHistory(log: log, seed: seed)
        try await history.run(120)
        let times = history.checkpoints.map(\.time)
        let first = try #require(times.first), last = try #require(times.last)
        var moments = [Timestamp(microseconds: first.microseconds - 1), last, Timestamp(microseconds: last.microseconds + 1)]
        var random = SeededRandom(seed: seed)
        for _ in 0..<6 {
            let time = times[Int.random(in: 0..<times.count, using: &random)]
            moments += [time, Timestamp(microseconds: time.microseconds + Int64.random(in: 1...500_000_000, using: &random))]
        }
        let nonEmpty = try await Self.expectFoldedEqualsRebuilt(log, at: moments, "seed \(seed)")
        #expect(nonEmpty > 40, "the moments fall inside the history: \(nonEmpty) non-empty reports")
    }

    /// A deleted connection's flows stop using it at its deletion (the random histories rarely
    /// delete a connection in use: deleting takes an admin).
    @Test(arguments: TestBackend.available)
    func aDeletedConnectionsFlowUsesEndAtItsDeletion(backend: TestBackend) async throws {
        let log = try await TemporaryLog(backend: backend, durability: .normal)
        var history = RandomHistory(log: log, seed: 3)
        try await history.run(10)
        let admin = { (minutes: Int64) in
            CommandContext(principal: .member("alice"), now: Timestamp(microseconds: history.clock.microseconds + minutes * 60_000_000))
        }
        var secret = Array(#"{"apiKey":"k"}"#.utf8)
        let created = try await log.service.createConnection(projectId: "acme", piece: "billing-api", authType: .apiKey, name: "Used",
                                                             credentials: &secret, context: admin(1))
        let id = try #require(created.stream.connectionId)
        for flow in ["flow-a", "flow-b", "flow-c"] { _ = try await log.service.attach(flow: flow, to: id, context: admin(2)) }
        _ = try await log.service.detach(flow: "flow-b", from: id, context: admin(3))
        _ = try await log.service.delete(id, context: admin(4))
        let moments = (1...5).map { Timestamp(microseconds: history.clock.microseconds + Int64($0) * 60_000_000) }
        _ = try await Self.expectFoldedEqualsRebuilt(log, at: moments, "deletion")
        let uses = try await Report.flowUsage.rows(of: log.database, asOf: moments[4], projects: ["acme"]).filter { $0[1] == id }
        #expect(uses.map { $0[0] } == ["flow-a", "flow-b", "flow-c"])
        #expect(uses.map { $0[5] } == [moments[3].iso8601, moments[2].iso8601, moments[3].iso8601].map { Optional($0) })
        #expect(uses.allSatisfy { $0[3] == nil }, "a deleted connection has no name in the report")
    }

    /// Read as ranges of a few positions, with none or several read ahead, the log folds as it
    /// does in one batch, also when the moment falls inside a range.
    @Test(arguments: TestBackend.available)
    func aFoldReadInSmallRangesEqualsAFoldInOneBatch(backend: TestBackend) async throws {
        let log = try await TemporaryLog(backend: backend, durability: .normal)
        var history = RandomHistory(log: log, seed: 21)
        try await history.run(150)
        let times = history.checkpoints.map(\.time)
        let first = try #require(times.first), last = try #require(times.last)
        for moment in [Timestamp(microseconds: first.microseconds - 1), times[times.count / 2], last] {
            let whole = try await ReadModelsAsOf.fold(log.database, upTo: moment, batchSize: 1_000_000)
            for (size, ahead) in [(1, 0), (7, 1), (7, 3), (64, 2)] {
                let ranged = try await ReadModelsAsOf.fold(log.database, upTo: moment, batchSize: size, readsAhead: ahead)
                let label = "as of \(moment), ranges of \(size), \(ahead) ahead"
                #expect(ranged.events == whole.events && ranged.position == whole.position, "\(label)")
                #expect(Array(ranged.connections) == Array(whole.connections), "\(label)")
                #expect(ranged.connectionCount == whole.connectionCount, "\(label)")
                #expect(ranged.flowUses == whole.flowUses && ranged.statusHistory == whole.statusHistory, "\(label)")
            }
        }
        let middle = try await ReadModelsAsOf.fold(log.database, upTo: times[times.count / 2])
        #expect(middle.events > 20 && middle.connectionCount > 0 && middle.connectionCount == Array(middle.connections).count, "\(middle.events) events, \(middle.connectionCount) connections")
    }

    /// Compares every folded report with the rebuilt one at each moment; returns how many were not empty.
    static func expectFoldedEqualsRebuilt(_ log: TemporaryLog, at moments: [Timestamp], _ label: String) async throws -> Int {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("as-of-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        var nonEmpty = 0
        for (index, moment) in moments.enumerated() {
            let path = scratch.appendingPathComponent("\(index).sqlite").path
            _ = try await Replayer.replay(from: log.database, until: moment, into: path)
            let replayed = try CredlogDatabase.open(path: path)
            defer { try? replayed.close() }
            for report in [Report.connections, .flowUsage, .statusHistory] {
                for projects in [nil, ["acme"], ["globex", "nobody"], []] as [[String]?] {
                    let rebuilt = try await report.rows(of: SQLiteDatabase(replayed), asOf: nil, projects: projects)
                    let folded = try await report.rows(of: log.database, asOf: moment, projects: projects)
                    #expect(folded == rebuilt, "\(label): \(report) as of \(moment), projects \(projects ?? ["all"])")
                    if !rebuilt.isEmpty { nonEmpty += 1 }
                }
            }
        }
        return nonEmpty
    }

    /// The audit trail as of a moment is the lines recorded up to it: a prefix of today's trail.
    @Test func theAuditTrailAsOfAMomentIsThePrefixRecordedByThen() async throws {
        let log = try await TemporaryLog(durability: .normal)
        var history = RandomHistory(log: log, seed: 5)
        try await history.run(60)
        let all = try await Report.audit.rows(of: log.database, asOf: nil, projects: nil)
        let middle = history.checkpoints[history.checkpoints.count / 2].time
        let asOf = try await Report.audit.rows(of: log.database, asOf: middle, projects: nil)
        #expect(!asOf.isEmpty && asOf.count < all.count)
        #expect(Array(all.prefix(asOf.count)) == asOf)
        #expect(asOf.allSatisfy { ($0[0] ?? "") <= middle.iso8601 })
        #expect(all.dropFirst(asOf.count).allSatisfy { ($0[0] ?? "") > middle.iso8601 })
    }
}
