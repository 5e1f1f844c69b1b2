import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The HTTP requests credlog sends out (token endpoints, validation requests, webhooks), each
/// with a deadline: a provider that hangs costs `timeout`, never a stuck command.
public struct OutboundHTTP: Sendable {
    public let client: HTTPClient
    public let timeout: Duration
    /// The most of a response body read (a provider's answer, shown in errors, is short).
    static let maxBody = 256 * 1024

    public init(client: HTTPClient = .shared, timeout: Duration = .seconds(10)) {
        self.client = client
        self.timeout = timeout
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

    public func send(_ method: HTTPMethod, _ url: String, headers: [(String, String)] = [], body: [UInt8]? = nil) async throws -> Response {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        do {
            let response = try await client.execute(request, timeout: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000
                                                                                  + timeout.components.attoseconds / 1_000_000_000))
            let buffer = try await response.body.collect(upTo: Self.maxBody)
            return Response(status: Int(response.status.code), body: Array(buffer.readableBytesView))
        } catch let error as HTTPClientError {
            throw Unreachable(description: error == .deadlineExceeded || error == .readTimeout ? "timed out after \(timeout)" : "\(error)")
        } catch let error as CancellationError {
            throw error
        } catch {
            throw Unreachable(description: "\(type(of: error)): \(error)")
        }
    }
}
