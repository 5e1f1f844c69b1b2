import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes

/// What one client may hold of the server: connections, time and header bytes. Without these a
/// few thousand idle sockets, or headers dripped a byte at a time, stall it for everyone.
public struct ServerLimits: Sendable {
    /// Connections open at once; past it new ones wait in the listen backlog until one closes.
    public var maxConnections = 1024
    /// A connection with no request part for this long is closed: idle keep-alive connections,
    /// and a request head that is still incomplete (headers dripped slowly).
    public var idleTimeout: Duration = .seconds(15)
    /// From a request's head to the end of its body (a body dripped slowly is cut off).
    public var bodyTimeout: Duration = .seconds(30)
    /// The most bytes of one header field, and of all of them together.
    public var maxHeaderFieldBytes = 8 * 1024
    public var maxHeaderBytes = 32 * 1024
    /// The most header fields in one request.
    public var maxHeaderFields = 100

    public init() {}

    /// The HTTP/1 server with these limits.
    func server() -> HTTPServerBuilder {
        let bodyTimeout = TimeAmount(bodyTimeout)
        return .http1(configuration: HTTP1Channel.Configuration(
            additionalChannelHandlers: [RequestBodyDeadline(timeout: bodyTimeout)],
            idleTimeout: TimeAmount(idleTimeout),
            httpDecoderConfiguration: .init(maxHeaderFieldSize: maxHeaderFieldBytes, maxHeaderListSize: maxHeaderBytes,
                                            maxHeaderFieldCount: maxHeaderFields)))
    }

    /// The server's configuration on `address`, with the connection cap.
    func configuration(_ address: BindAddress, logger: Logger) -> ApplicationConfiguration {
        ApplicationConfiguration(address: address, serverName: "credlog", backlog: 256,
                                 availableConnectionsDelegate: .maximum(maxConnections, logger: logger))
    }
}

/// Closes a connection whose request body does not end within `timeout` of its head.
final class RequestBodyDeadline: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    let timeout: TimeAmount
    private var deadline: Scheduled<Void>?

    init(timeout: TimeAmount) { self.timeout = timeout }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            deadline?.cancel()
            let channel = context.channel
            deadline = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
        case .body:
            break
        case .end:
            deadline?.cancel()
            deadline = nil
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
    }
}
