import AsyncHTTPClient
import CredlogEvents
import Foundation
import NIOCore
import Tracing
import NIOHTTP1

/// The HTTP requests credlog sends out (token endpoints, validation requests, webhooks), each
/// with a deadline: a provider that hangs costs `timeout`, never a stuck command.
///
/// The URLs come from people (a registered piece, a webhook) and must not become a way into the
/// network credlog runs in: unless the operator allows it, a destination on loopback, a private
/// or link-local network (169.254.169.254, the cloud metadata service, among them) is refused
/// before anything is sent. The host is resolved once, every address it resolves to is checked,
/// and the request goes to the address that was checked (so a name that resolves elsewhere the
/// second time, DNS rebinding, changes nothing); redirects are not followed.
public struct OutboundHTTP: Sendable {
    public let timeout: Duration
    public let destinations: Destinations
    /// The client for destinations that are not checked (`.anyAddress`).
    private let client: HTTPClient
    /// The most of a response body read (a provider's answer, shown in errors, is short).
    static let maxBody = 256 * 1024

    /// Where requests may go.
    public enum Destinations: Sendable {
        /// Public addresses only (the default).
        case publicOnly
        /// Any address, loopback and private networks included: for tests and local development
        /// (`CREDLOG_ALLOW_PRIVATE_DESTINATIONS=1`, `credlog serve --allow-private-destinations`).
        case anyAddress
        /// Loopback addresses only (`CREDLOG_LOOPBACK_ONLY=1`): for test runs, whose servers are
        /// driven by request generators that must never reach a real provider.
        case loopbackOnly

        /// `.loopbackOnly` when `CREDLOG_LOOPBACK_ONLY` is `1` (whatever else is asked); else
        /// `.anyAddress` when `allowingPrivate` or `CREDLOG_ALLOW_PRIVATE_DESTINATIONS` is `1`.
        public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment,
                                           allowingPrivate: Bool = false) -> Destinations {
            if environment["CREDLOG_LOOPBACK_ONLY"] == "1" { return .loopbackOnly }
            return allowingPrivate || environment["CREDLOG_ALLOW_PRIVATE_DESTINATIONS"] == "1" ? .anyAddress : .publicOnly
        }
    }

    public init(timeout: Duration = .seconds(10), destinations: Destinations = .publicOnly) {
        self.timeout = timeout
        self.destinations = destinations
        client = Self.unchecked
    }

    /// One client for unchecked destinations, shared by the process; redirects are not followed.
    private static let unchecked = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration())

    private static func configuration(dnsOverride: [String: String] = [:]) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.dnsOverride = dnsOverride
        // AsyncHTTPClient's own spans record the full URL, whose query may carry a key:
        // `send` makes the one span of each request instead.
        configuration.tracing.tracer = nil
        return configuration
    }

    /// An answer: its status and body.
    public struct Response: Sendable {
        public var status: Int
        public var body: [UInt8]
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// The request could not be completed: no connection, a timeout, a reset.
    public struct Unreachable: Error, CustomStringConvertible {
        public var description: String
    }

    /// The destination is not one credlog sends to (nothing was sent).
    public struct RefusedDestination: Error, CustomStringConvertible {
        public var description: String
    }

    /// Sends a request (a provider's token endpoint or validation request, a webhook) under a span
    /// `outbound <METHOD>` that names the host and the status only: a path or query may carry a
    /// key, an answer a token.
    public func send(_ method: HTTPMethod, _ url: String, headers: [(String, String)] = [], body: [UInt8]? = nil) async throws -> Response {
        try await withSpanWhenTracing("outbound \(method.rawValue)", ofKind: .client) { span in
            span?.attributes["http.request.method"] = method.rawValue
            span?.attributes["server.address"] = URLComponents(string: url)?.host
            let response = try await sendUntraced(method, url, headers: headers, body: body)
            span?.attributes["http.response.status_code"] = response.status
            return response
        }
    }

    private func sendUntraced(_ method: HTTPMethod, _ url: String, headers: [(String, String)], body: [UInt8]?) async throws -> Response {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        // Some providers (GitHub's API) refuse a request without one.
        if !request.headers.contains(name: "User-Agent") { request.headers.add(name: "User-Agent", value: "credlog") }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        switch destinations {
        case .anyAddress:
            return try await execute(request, on: client)
        case .publicOnly, .loopbackOnly:
            // A client of its own, pinned to the address that was checked, for this request only.
            let pinned = Self.clientPinned(to: try await Destination.checked(url, loopbackOnly: destinations == .loopbackOnly))
            do {
                let response = try await execute(request, on: pinned)
                try? await pinned.shutdown()
                return response
            } catch {
                try? await pinned.shutdown()
                throw error
            }
        }
    }

    private func execute(_ request: HTTPClientRequest, on client: HTTPClient) async throws -> Response {
        do {
            let response = try await client.execute(request, timeout: TimeAmount(timeout))
            let buffer = try await response.body.collect(upTo: Self.maxBody)
            return Response(status: Int(response.status.code), body: Array(buffer.readableBytesView))
        } catch let error as HTTPClientError {
            throw Unreachable(description: error == .deadlineExceeded || error == .readTimeout ? "timed out after \(timeout)" : "\(error)")
        } catch let error as CancellationError {
            throw error
        } catch {
            throw Unreachable(description: "\(type(of: error))")
        }
    }

    /// A client that reaches the destination's host only at the address that was checked (TLS
    /// still verifies the certificate for the host name).
    private static func clientPinned(to destination: Destination) -> HTTPClient {
        HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup,
                   configuration: configuration(dnsOverride: destination.isLiteral ? [:] : [destination.host: destination.address]))
    }
}
