import Foundation
import Hummingbird

/// Counts refusals per client (failed sign-ins by address, refused requests by token) in a
/// sliding window; past the limit the client is answered 429 with `Retry-After` until the window
/// moves on, without running anything, so guessing tokens or probing another project's ids is
/// slow and cannot fill the audit trail. Kept in memory, bounded in clients.
public actor RefusalLimiter {
    /// How many refusals one client may have in `window`.
    public struct Rule: Sendable {
        public var limit: Int
        public var window: Duration
        public init(limit: Int, window: Duration) {
            self.limit = limit
            self.window = window
        }
    }

    let signIns: Rule
    let requests: Rule
    /// Clients tracked at once; the least recently refused are forgotten first.
    let maxClients: Int
    private var refusals: [String: [ContinuousClock.Instant]] = [:]

    public init(signIns: Rule = Rule(limit: 10, window: .seconds(300)), requests: Rule = Rule(limit: 60, window: .seconds(60)),
                maxClients: Int = 10_000) {
        self.signIns = signIns
        self.requests = requests
        self.maxClients = maxClients
    }

    /// How long `client` must wait before its next attempt counts; `nil` when it may go on.
    func wait(_ client: String, rule: Rule, now: ContinuousClock.Instant = .now) -> Duration? {
        guard let times = refusals[client] else { return nil }
        let recent = times.filter { now - $0 < rule.window }
        refusals[client] = recent.isEmpty ? nil : recent
        guard recent.count >= rule.limit, let oldest = recent.first else { return nil }
        return rule.window - (now - oldest)
    }

    /// Counts one refusal of `client`.
    func refused(_ client: String, rule: Rule, now: ContinuousClock.Instant = .now) {
        var times = refusals[client, default: []].filter { now - $0 < rule.window }
        times.append(now)
        refusals[client] = Array(times.suffix(rule.limit))
        if refusals.count > maxClients {
            // Forget the clients whose last refusal is oldest (a flood of addresses cannot grow this).
            let forgotten = refusals.sorted { ($0.value.last ?? now) < ($1.value.last ?? now) }.prefix(refusals.count - maxClients)
            for (key, _) in forgotten { refusals[key] = nil }
        }
    }

    /// The answer while a client waits.
    static func tooMany(_ wait: Duration, what: String) -> Response {
        let seconds = max(1, Int(wait.components.seconds) + 1)
        var response = Problem(.tooManyRequests, "too many \(what); try again in \(seconds) s").response()
        response.headers[.retryAfter] = String(seconds)
        return response
    }
}

/// Answers 429 to a token that had too many requests refused (403, 404) lately; counts each refusal.
struct RefusedRequestLimit: RouterMiddleware {
    let limiter: RefusalLimiter

    func handle(_ request: Request, context: CredlogRequestContext,
                next: (Request, CredlogRequestContext) async throws -> Response) async throws -> Response {
        guard let tokenId = context.identity?.token.tokenId else { return try await next(request, context) }
        let client = "token:" + tokenId
        if let wait = await limiter.wait(client, rule: limiter.requests) {
            return RefusalLimiter.tooMany(wait, what: "refused requests")
        }
        do {
            let response = try await next(request, context)
            if [403, 404].contains(response.status.code) { await limiter.refused(client, rule: limiter.requests) }
            return response
        } catch {
            let status = Problem.from(error).status
            if [403, 404].contains(status) { await limiter.refused(client, rule: limiter.requests) }
            throw error
        }
    }
}
