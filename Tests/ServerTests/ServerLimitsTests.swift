import CredlogServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// What one client may hold of a running server (on a loopback port): idle and half-sent
/// requests are cut off, connections are capped, header sizes bounded. Waits are generous
/// (a busy machine only makes the server slower to close, never makes a check pass wrongly).
@Suite("Server limits")
struct ServerLimitsTests {
    /// The server with `limits` on a free loopback port, for the duration of `body`.
    func serve(_ limits: ServerLimits, _ body: @Sendable (Int) async throws -> Void) async throws {
        let fixture = try await APIFixture()
        var logger = Logger(label: "credlog-test")
        logger.logLevel = .error
        let app = try await CredlogServer.application(fixture.environment, host: "127.0.0.1", port: 0, logger: logger,
                                                      background: false, limits: limits)
        try await app.test(.live) { client in try await body(try #require(client.port)) }
    }

    @Test func headersDrippedSlowlyAreCutOffAtTheIdleTimeout() async throws {
        var limits = ServerLimits()
        limits.idleTimeout = .seconds(1)
        try await serve(limits) { port in
            let socket = try RawSocket(port: port)
            try await socket.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            let dripping = Task {
                for byte in "X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".utf8 {
                    try await Task.sleep(for: .milliseconds(200))
                    guard (try? await socket.send(String(UnicodeScalar(byte)))) != nil else { return }
                }
            }
            defer { dripping.cancel() }
            #expect(await socket.readUntilClosed(waitingAtMost: 120).closed, "the server closed a connection whose head never completed")
        }
    }

    @Test func aBodyDrippedSlowlyIsCutOffAtTheBodyTimeout() async throws {
        var limits = ServerLimits()
        limits.bodyTimeout = .seconds(1)
        try await serve(limits) { port in
            let socket = try RawSocket(port: port)
            try await socket.send("POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                            + "Content-Length: 1000\r\n\r\ntoken=")
            #expect(await socket.readUntilClosed(waitingAtMost: 120).closed, "the server closed a request whose body never came")
        }
    }

    /// The cap test runs the server itself rather than through `app.test(.live)`: HummingbirdTesting
    /// rebinds the application with `configuration.with(address:)`, which drops the
    /// `availableConnectionsDelegate`, so a live test server has no cap at all. (An earlier version
    /// of this test "passed" only because its blocking reads starved the server of threads.)
    @Test func connectionsPastTheCapWaitUntilOneCloses() async throws {
        var limits = ServerLimits()
        limits.maxConnections = 2
        limits.idleTimeout = .seconds(600)
        let fixture = try await APIFixture()
        var logger = Logger(label: "credlog-test")
        logger.logLevel = .error
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let app = try await CredlogServer.application(fixture.environment, host: "127.0.0.1", port: 0, logger: logger,
                                                      background: false, limits: limits,
                                                      onServerRunning: { portSink.yield($0) })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService() }
            defer { group.cancelAll() }
            var waiting = ports.makeAsyncIterator()
            let port = try #require(await waiting.next())
            let request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            // Two connections, each answered once (so both are accepted) and left open.
            let first = try RawSocket(port: port), second = try RawSocket(port: port)
            for socket in [first, second] {
                try await socket.send(request)
                #expect(await socket.read(waitingAtMost: 120).hasPrefix("HTTP/1.1 200"))
            }
            // A third waits in the backlog: no answer while both are open...
            let third = try RawSocket(port: port)
            try await third.send(request)
            #expect(await third.read(waitingAtMost: 3).isEmpty, "no third connection is served while two are open")
            // ...and is served as soon as one closes.
            first.close()
            #expect(await third.read(waitingAtMost: 120).hasPrefix("HTTP/1.1 200"))
            second.close()
            third.close()
        }
    }

    @Test func oversizedHeadersAreRefused() async throws {
        try await serve(ServerLimits()) { port in
            let socket = try RawSocket(port: port)
            try await socket.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + String(repeating: "a", count: 64 * 1024) + "\r\n\r\n")
            let answer = await socket.readUntilClosed(waitingAtMost: 120)
            #expect(!answer.text.hasPrefix("HTTP/1.1 200"), "a 64 KiB header is not served: \(answer.text.prefix(40))")
        }
    }
}

/// A TCP socket to a loopback port, with bounded waits. Its blocking calls run on a Dispatch
/// thread, never on Swift's cooperative pool: the in-process server under test runs on that pool
/// (two threads on a two-core machine), and a test blocked there in `recv` would starve the very
/// server it waits for (an answer then arrives only when the wait runs out).
final class RawSocket: @unchecked Sendable {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
    }

    func send(_ text: String) async throws {
        try await Self.offThePool { try self.sendBlocking(text) }
    }

    private func sendBlocking(_ text: String) throws {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw POSIXError(.EPIPE) }
            sent += n
        }
    }

    /// What arrives within `seconds` of silence (empty when nothing did).
    func read(waitingAtMost seconds: Int) async -> String {
        await Self.offThePool { self.readBlocking(waitingAtMost: seconds) }
    }

    private func readBlocking(waitingAtMost seconds: Int) -> String {
        setTimeout(seconds)
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n > 0 ? String(decoding: buffer[..<n], as: UTF8.self) : ""
    }

    /// Reads until the server closes the connection (`closed`), or until nothing came for `seconds`.
    func readUntilClosed(waitingAtMost seconds: Int) async -> (closed: Bool, text: String) {
        await Self.offThePool { self.readUntilClosedBlocking(waitingAtMost: seconds) }
    }

    private func readUntilClosedBlocking(waitingAtMost seconds: Int) -> (closed: Bool, text: String) {
        setTimeout(seconds)
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n > 0 { received += buffer[..<n]; continue }
            let closed = n == 0 || errno == ECONNRESET
            return (closed, String(decoding: received, as: UTF8.self))
        }
    }

    private static func offThePool<T: Sendable>(_ call: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { answer in
            DispatchQueue.global().async { answer.resume(with: Result { try call() }) }
        }
    }

    private static func offThePool<T: Sendable>(_ call: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { answer in DispatchQueue.global().async { answer.resume(returning: call()) } }
    }

    private func setTimeout(_ seconds: Int) {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    private var isClosed = false

    func close() {
        guard !isClosed else { return }
        isClosed = true
        Glibc.close(fd)
    }

    deinit { close() }
}
