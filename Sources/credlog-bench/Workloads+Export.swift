import CredlogEvents
import Foundation

extension Workloads {
    // MARK: 9. A report exported over HTTP, and the server's peak memory

    /// `credlog serve` on the big log streams `GET /v1/reports/audit` (a CSV row per event) and
    /// `GET /v1/reports/status-history` to curl; the server's peak memory (its own, from `wait4`)
    /// must stay under 100 MiB whatever the report's size.
    mutating func export(_ log: BenchLog) async throws {
        try await log.seed()
        let issued = try references.cli(["token", "create", "--member", "bob", "--project", "acme", "--json"], database: log.path,
                                        masterKey: log.masterKey.base64)
        guard let token = issued.json["token"] as? String else { throw BenchError.childFailed("token create printed no token") }
        let (trail, history) = try await log.database.read { db in
            (try db.fetchValue(sql: "SELECT (SELECT COUNT(*) FROM events) + (SELECT COUNT(*) FROM refusals) + (SELECT COUNT(*) FROM credential_reads)")
                ?? 0 as Int,
             try db.fetchValue(sql: "SELECT COUNT(*) FROM status_history") ?? 0 as Int)
        }
        let port = try References.freeLoopbackPort()
        let server = try References.start(references.credlog, ["serve", "--host", "127.0.0.1", "--port", String(port)],
                                          environment: ["CREDLOG_DB": log.path, "CREDLOG_MASTER_KEY": log.masterKey.base64,
                                                        "CREDLOG_LOOPBACK_ONLY": "1"])
        var rates: [(String, Int, Double)] = []
        do {
            try References.waitUntilServing(port: port)
            for (name, rows) in [("audit", trail), ("status-history", history)] {
                let start = Date()
                let lines = try References.downloadLines("http://127.0.0.1:\(port)/v1/reports/\(name)?format=csv", token: token)
                let seconds = Date().timeIntervalSince(start)
                expectEqual("\(name) CSV lines over HTTP", rows + 1, lines, "rows + header")
                rates.append((name, rows, Double(rows) / seconds))
            }
        } catch {
            _ = try? server.stop()
            throw error
        }
        let peak = try server.stop()
        for (name, rows, rate) in rates {
            report.add(.init(workload: "9. report export over HTTP: \(name), \(rows) CSV rows", unit: "rows/s", credlog: rate, raw: nil,
                             python: nil, higherIsBetter: true, target: "(context)", met: nil))
        }
        report.add(.init(workload: "9. server peak memory while exporting them", unit: "MiB", credlog: peak, raw: nil, python: nil,
                         higherIsBetter: false, target: "< 100 MiB", met: peak < 100))
    }
}

extension References {
    /// A loopback port nothing listens on now.
    static func freeLoopbackPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw BenchError.childFailed("no free loopback port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Waits until the server on `port` answers `/healthz` (a minute at most).
    static func waitUntilServing(port: Int) throws {
        for _ in 0..<600 {
            if (try? shell("curl -sf -o /dev/null http://127.0.0.1:\(port)/healthz")) != nil { return }
            usleep(100_000)
        }
        throw BenchError.childFailed("the server on port \(port) never answered")
    }

    /// Downloads `url` with curl (failing on an HTTP error or a cut-off transfer) and counts its lines.
    static func downloadLines(_ url: String, token: String) throws -> Int {
        let output = try shell("set -o pipefail; curl -sS --fail -H 'Authorization: Bearer \(token)' '\(url)' | wc -l")
        guard let lines = Int(output.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw BenchError.childFailed("curl printed \(output)")
        }
        return lines
    }
}
