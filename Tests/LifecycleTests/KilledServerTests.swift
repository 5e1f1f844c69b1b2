import AsyncHTTPClient
import CredlogDomain
import CredlogEvents
import CredlogProjections
import CredlogTestSupport
import Foundation
import Synchronization
import Testing

/// `credlog serve` killed (SIGKILL) while 32 clients reconnect connections through it, then
/// restarted: every write it acknowledged is in the log, no append is half there, and the read
/// models equal a rebuild — on each backend.
@Suite("A server killed in the middle of appends", .serviceScope)
struct KilledServerTests {
    @Test(arguments: TestBackend.available)
    func nothingAcknowledgedIsLostAndNothingIsHalfWritten(backend: TestBackend) async throws {
        let log = try await TemporaryLog(backend: backend)
        try await log.seedProject()
        var ids: [String] = []
        for n in 0..<16 {
            var secret = Array(#"{"apiKey":"k-\#(n)"}"#.utf8)
            let created = try await log.service.createConnection(projectId: "acme", piece: "acme-crm", authType: .apiKey,
                                                                 name: "Conn \(n)", credentials: &secret,
                                                                 context: CommandContext(principal: .member("alice")))
            ids.append(try #require(created.stream.connectionId))
        }
        let token = try await log.issueToken(member: "alice").token

        let first = try await Self.serve(log)
        let (url, connections) = (first.url, ids)
        let progress = Progress()
        let clients = Task {
            await withTaskGroup(of: [String].self) { group in
                for client in 0..<32 {
                    group.addTask {
                        var acknowledged: [String] = []
                        var n = 0
                        // Each client reconnects until the server stops answering.
                        while true {
                            n += 1
                            let correlation = "kill-\(client)-\(n)"
                            var request = HTTPClientRequest(url: "\(url)/v1/connections/\(connections[(client + n) % connections.count])/reconnect")
                            request.method = .POST
                            request.headers.add(name: "Authorization", value: "Bearer \(token)")
                            request.headers.add(name: "Content-Type", value: "application/json")
                            request.headers.add(name: "X-Correlation-Id", value: correlation)
                            request.body = .bytes(Data(#"{"credentials":{"apiKey":"new-\#(correlation)"}}"#.utf8))
                            guard let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(120)) else {
                                return acknowledged
                            }
                            _ = try? await response.body.collect(upTo: 1 << 16)
                            if response.status == .ok {
                                acknowledged.append(correlation)
                                progress.acknowledgedOne()
                            }
                        }
                    }
                }
                return await group.reduce(into: []) { $0 += $1 }
            }
        }
        // Killed once 48 reconnects were acknowledged: the 32 clients have more in flight.
        for _ in 0..<6000 where progress.count < 48 { try await Task.sleep(for: .milliseconds(50)) }
        kill(first.process.processIdentifier, SIGKILL)
        first.process.waitUntilExit()
        let acked = await clients.value
        #expect(acked.count >= 48, "the server was killed in the middle of appends (\(acked.count) acknowledged)")

        // Restarted, it serves again (and catches its projections up if they were behind).
        let server = try await Self.serve(log)
        defer { kill(server.process.processIdentifier, SIGKILL); server.process.waitUntilExit() }
        var check = HTTPClientRequest(url: "\(server.url)/v1/connections?limit=50")
        check.headers.add(name: "Authorization", value: "Bearer \(token)")
        #expect(try await HTTPClient.shared.execute(check, timeout: .seconds(120)).status == .ok)

        let logged: Set<String> = Set(try await log.database.read { db in
            try db.fetchAll(sql: "SELECT correlation_id FROM events WHERE event_type = 'connection.reconnected'").map { try $0[0] as String }
        })
        #expect(acked.filter { !logged.contains($0) }.isEmpty, "every acknowledged reconnect is in the log")
        // Nothing half-written: each stream's versions run 1, 2, 3… and each reconnect is whole
        // (its event, its projection rows and its audit row, or none of them).
        let streams = try await log.database.read { db in
            try db.fetchAll(sql: "SELECT stream_id, COUNT(*) AS events, MAX(stream_version) AS last FROM events GROUP BY stream_id")
        }
        #expect(try streams.allSatisfy { (try $0["events"] as Int64) == (try $0["last"] as Int64) })
        let report = try await ChainVerifier(chain: ChainHasher(key: log.keys.chainKey)).verify(log.database)
        let events = try await log.eventCount()
        #expect(report.isIntact && report.eventCount == Int64(events))
        let projected = try await log.projectionTables()
        try await ProjectionRunner(database: log.database).rebuild()
        #expect(try await log.projectionTables() == projected, "the read models equal a rebuild")
    }

    /// `credlog serve --port 0` on the log's database, and the address it printed.
    static func serve(_ log: TemporaryLog) async throws -> (process: Process, url: String) {
        let process = Process()
        let output = Pipe()
        process.executableURL = CLI.executable
        process.arguments = ["serve", "--port", "0", "--db", log.path]
        process.environment = ["CREDLOG_MASTER_KEY": log.masterKey.base64, "PATH": ProcessInfo.processInfo.environment["PATH"] ?? ""]
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var printed = Data()
        for _ in 0..<6000 {
            printed += output.fileHandleForReading.availableData
            if let range = String(decoding: printed, as: UTF8.self).range(of: #"http://127\.0\.0\.1:[0-9]+"#, options: .regularExpression) {
                return (process, String(String(decoding: printed, as: UTF8.self)[range]))
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        process.terminate()
        throw ServerDidNotStart()
    }
}

struct ServerDidNotStart: Error {}

/// How many writes the clients have had acknowledged so far.
final class Progress: Sendable {
    private let acknowledged = Mutex(0)
    var count: Int { acknowledged.withLock { $0 } }
    func acknowledgedOne() { acknowledged.withLock { $0 += 1 } }
}
