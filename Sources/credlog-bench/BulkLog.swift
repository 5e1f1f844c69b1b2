import CredlogEvents
import Foundation

/// Writes a large log quickly for the read-side workloads: connection lives appended in
/// groups of requests (one transaction per group) without inline projections.
enum BulkLog {
    static let pieces = ["gmail", "hubspot", "slack", "salesforce", "stripe", "notion", "github", "jira"]
    static let teams = ["Support", "Sales", "Ops", "Marketing", "EU team", "US team", "Prod", "Staging", "API", "Finance"]

    /// Appends `connections` lives of 7 events, interleaved as in real life (each step of a
    /// thousand connections' lives, then the next step); one in three ends expired instead of
    /// reconnected. Every event is one second after the one before. Returns the span of times.
    static func write(_ log: BenchLog, connections: Int, start: Timestamp) async throws -> ClosedRange<Timestamp> {
        let sealed = { (n: Int) in
            SealedCredentials(authType: .apiKey, keyId: "dk-bulk", box: Data(Sodium.randomBytes(48)).base64EncodedString(),
                              fingerprint: "fp:" + Sodium.randomBytes(8).hex, expiresAt: n % 2 == 0 ? "2027-01-01T00:00:00.000000Z" : nil)
        }
        func life(_ n: Int) -> [ConnectionEvent] {
            let piece = pieces[n % pieces.count]
            let name = "\(piece.capitalized) - \(teams[(n / pieces.count) % teams.count]) \(n)"
            var events: [ConnectionEvent] = [.created(.init(connectionId: "conn_bulk\(n)", projectId: "acme", piece: piece,
                                                            authType: .apiKey, name: name, credentials: sealed(n)))]
            events += (0..<3).map { .attachedToFlow(.init(flowId: "flow-\(n % 500)-\($0)")) }
            events.append(.renamed(.init(from: name, to: name + " (prod)")))
            events.append(.expired(.init(reason: "token expired")))
            events.append(n % 3 == 0 ? .attachedToFlow(.init(flowId: "flow-\(n % 500)-3")) : .reconnected(.init(credentials: sealed(n))))
            return events
        }
        var clock = start
        for chunk in stride(from: 0, to: connections, by: 1_000) {
            let lives = (chunk..<min(chunk + 1_000, connections)).map { ($0, life($0)) }
            for step in 0..<7 {
                let requests = try lives.map { n, events -> AppendRequest in
                    clock = Timestamp(microseconds: clock.microseconds + 1_000_000)
                    return AppendRequest(
                        stream: .connection("conn_bulk\(n)"), expectedVersion: .exact(Int64(step)), events: [try events[step].encode()],
                        metadata: EventMetadata(actor: .member("bob", .member), projectId: "acme", correlationId: "bulk-\(n)",
                                                causationId: "bulk-\(n)", recordedAt: clock))
                }
                for result in try await log.store.append(requests) { _ = try result.get() }
            }
        }
        return start...clock
    }
}
