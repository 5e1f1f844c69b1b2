import CredlogEvents
import CredlogProjections
import Hummingbird
import HummingbirdCore
import HTTPTypes
import ServiceLifecycle

/// The log as a feed for other systems, limited to the token's project: `GET /v1/events` pages
/// through it by position, `GET /v1/events/stream` follows it as Server-Sent Events.
struct EventRoutes {
    let environment: ServerEnvironment

    func register(on group: RouterGroup<CredlogRequestContext>) {
        group.get("events", use: page)
        group.get("events/stream", use: stream)
    }

    /// `?after=POS&limit=N` (100 by default): the project's events after `POS`, oldest first.
    @Sendable func page(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let query = request.uri.queryParameters
        let feed = EventFeed(after: try query.position("after"), limit: try query.integer("limit", default: 100, in: 1...EventFeed.maxLimit))
        return try JSONCoding.response(try await environment.queries.events(feed, for: identity.reader))
    }

    /// The project's events after `Last-Event-ID` (or `?after=`, or from the beginning) as they
    /// are appended, each with its position as its id; a heartbeat while nothing happens. The
    /// stream ends when the token is revoked, when the server shuts down, or when the consumer goes.
    @Sendable func stream(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let after = try request.headers[.lastEventID].map { try FlatDictionary<Substring, Substring>.position($0, named: "Last-Event-ID") }
            ?? request.uri.queryParameters.position("after")
        guard let slot = environment.eventStreams.reserve() else {
            throw Problem(.serviceUnavailable, "the server has as many event streams open as it allows; try again later")
        }
        let stream = EventStream(environment: environment, identity: identity, after: after)
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-store"],
                        body: ResponseBody { writer in
                            defer { withExtendedLifetime(slot) {} }  // the place is the stream's until it ends
                            try await stream.run(&writer)
                        })
    }
}

extension HTTPField.Name {
    /// The position a Server-Sent Events consumer saw last, sent when it reconnects.
    static let lastEventID = HTTPField.Name("Last-Event-ID")!
}

/// One consumer's Server-Sent Events stream of the log.
struct EventStream {
    let environment: ServerEnvironment
    let identity: Identity
    let after: Int64
    /// Events read and written at a time.
    static let batchSize = 100

    /// Writes events as they come and heartbeats in between, until the token is no longer live,
    /// the server shuts down gracefully, or a write fails (the consumer has gone).
    func run(_ writer: inout any ResponseBodyWriter) async throws {
        let streams = environment.eventStreams
        var after = self.after
        var quietSince = ContinuousClock.now
        try await writer.write(ByteBuffer(string: "retry: 2000\n\n"))
        while !Task.isCancelled, !Task.isShuttingDownGracefully, try await tokenIsLive() {
            let mark = environment.store.appendMark()
            let page = try await environment.queries.events(EventFeed(after: after, limit: Self.batchSize), for: identity.reader)
            if !page.events.isEmpty {
                try await writer.write(try Self.frames(page.events))
                after = page.nextAfter
                quietSince = .now
                continue
            }
            let quiet = ContinuousClock.now - quietSince
            if quiet >= streams.heartbeat {
                try await writer.write(ByteBuffer(string: ": heartbeat\n\n"))
                quietSince = .now
                continue
            }
            await environment.store.waitForAppends(since: mark, timeout: min(streams.pollInterval, streams.heartbeat - quiet))
        }
        try await writer.finish(nil)
    }

    private func tokenIsLive() async throws -> Bool {
        let tokenId = identity.token.tokenId
        let now = environment.clock()
        return try await environment.database.read { db in try AccessTokens.isLive(tokenId, now: now, db) }
    }

    /// The events as Server-Sent Events: `id` the position, `event` the type, `data` the entry's
    /// JSON on one line (JSON escapes every line break inside its strings).
    static func frames(_ events: [LogEntry]) throws -> ByteBuffer {
        var buffer = ByteBuffer()
        for event in events {
            buffer.writeString("id: \(event.position)\n")
            // A type is written only when it is a plain name: a row written by someone else cannot add lines.
            if !event.type.isEmpty, event.type.utf8.allSatisfy(Self.isNameByte) { buffer.writeString("event: \(event.type)\n") }
            buffer.writeString("data: ")
            buffer.writeBytes(try JSONCoding.encoder.encode(event))
            buffer.writeString("\n\n")
        }
        return buffer
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"): true
        default: false
        }
    }
}
