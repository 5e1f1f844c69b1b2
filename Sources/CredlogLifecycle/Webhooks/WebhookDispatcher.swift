import CredlogDomain
import CredlogEvents
import Foundation

/// Sends the outbox's due notifications: POST, JSON body, signed with HMAC-SHA256 over the body
/// under the webhook's secret (`X-Credlog-Signature: sha256=HEX`), `X-Credlog-Delivery` naming
/// the delivery. A 2xx answer ends it; anything else is retried with exponential back-off until
/// ``WebhookDispatcher/Policy/maxAttempts``.
///
/// Each delivery is claimed with a lease before it is sent, so processes sharing the database
/// never send it at the same time; one that dies while sending leaves it to be retried once the
/// lease ends (with the same delivery id, which receivers dedupe on).
public struct WebhookDispatcher: Sendable {
    let database: any SQLDatabase
    let http: OutboundHTTP
    let pieces: ProjectPieces
    public let policy: Policy

    public struct Policy: Sendable {
        /// The wait after the first failure, doubled at each further one, up to `maxDelay`.
        public var firstDelay: Duration = .seconds(5)
        public var maxDelay: Duration = .seconds(3600)
        public var maxAttempts: Int = 12
        /// How long a claimed delivery is left alone (longer than a request's timeout).
        public var lease: Duration = .seconds(30)
        public init() {}
    }

    public init(database: any SQLDatabase, http: OutboundHTTP, service: CommandService, policy: Policy = .init()) {
        self.database = database
        self.http = http
        pieces = ProjectPieces(service: service)
        self.policy = policy
    }

    /// What one delivery attempt came to.
    public struct Attempt: Sendable, Equatable {
        public var deliveryId: String
        public var delivered: Bool
        public var error: String?
    }

    /// Sends every delivery due at `now` (up to `limit`).
    public func deliverDue(now: Timestamp, limit: Int = 50) async throws -> [Attempt] {
        let claimed = try await claim(now: now, limit: limit)
        var attempts: [Attempt] = []
        for row in claimed {
            attempts.append(try await deliver(row, now: now))
        }
        return attempts
    }

    struct Claimed: Sendable {
        var deliveryId: String
        var projectId: String
        var webhookId: String
        var url: String
        var secretVersion: Int64
        var body: String
        var attempts: Int
    }

    private func claim(now: Timestamp, limit: Int) async throws -> [Claimed] {
        let until = (now + policy.lease).iso8601
        let due = """
            SELECT delivery_id, project_id, webhook_id, url, secret_version, body, attempts FROM webhook_outbox
            WHERE delivered_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?)
            ORDER BY next_attempt_at, event_position LIMIT ?
            """
        // Usually nothing is due: check with a read, so that an idle dispatcher takes no write lock.
        guard try await database.read({ db in try db.fetchOne(sql: due, arguments: [now.iso8601, now.iso8601, 1]) }) != nil else {
            return []
        }
        return try await database.write { db in
            let rows = try db.fetchAll(sql: due, arguments: [now.iso8601, now.iso8601, limit])
            for row in rows {
                try db.execute(sql: "UPDATE webhook_outbox SET lease_until = ? WHERE delivery_id = ?", arguments: [until, row["delivery_id"] as String])
            }
            return try rows.map {
                Claimed(deliveryId: try $0["delivery_id"], projectId: try $0["project_id"], webhookId: try $0["webhook_id"], url: try $0["url"],
                        secretVersion: try $0["secret_version"], body: try $0["body"], attempts: try $0["attempts"])
            }
        }
    }

    private func deliver(_ delivery: Claimed, now: Timestamp) async throws -> Attempt {
        let events = try await pieces.service.store.readStream(.project(delivery.projectId), from: delivery.secretVersion)
        guard let carrier = events.first, carrier.streamVersion == delivery.secretVersion,
              case .webhookAdded(let added) = try carrier.decode(as: MembershipEvent.self), added.webhookId == delivery.webhookId,
              ProjectState.fold(try events.map { try $0.decode(as: MembershipEvent.self) }).webhooks[delivery.webhookId] != nil
        else {
            try await finish(delivery, now: now, outcome: .gaveUp("the webhook was removed"))
            return Attempt(deliveryId: delivery.deliveryId, delivered: false, error: "the webhook was removed")
        }
        var secret = Array(try await pieces.open(added.secret, in: delivery.projectId, version: delivery.secretVersion).utf8)
        defer { Sodium.wipe(&secret) }
        let body = Array(delivery.body.utf8)
        let headers = [
            ("Content-Type", "application/json"), ("User-Agent", "credlog-webhooks"),
            ("X-Credlog-Delivery", delivery.deliveryId),
            ("X-Credlog-Signature", WebhookSignature.header(body: body, secret: secret)),
        ]
        var failure: String
        do {
            let response = try await http.send(.POST, delivery.url, headers: headers, body: body)
            if (200..<300).contains(response.status) {
                try await finish(delivery, now: now, outcome: .delivered)
                return Attempt(deliveryId: delivery.deliveryId, delivered: true, error: nil)
            }
            failure = "HTTP \(response.status)"
        } catch let error as OutboundHTTP.Unreachable {
            failure = error.description
        } catch let error as OutboundHTTP.RefusedDestination {
            // Nothing was sent, and trying again will not change the address: give up now.
            try await finish(delivery, now: now, outcome: .gaveUp(error.description))
            return Attempt(deliveryId: delivery.deliveryId, delivered: false, error: error.description)
        }
        let attempts = delivery.attempts + 1
        if attempts >= policy.maxAttempts {
            try await finish(delivery, now: now, outcome: .gaveUp("\(failure), \(attempts) attempts"))
        } else {
            let wait = min(policy.firstDelay.wholeMicroseconds << min(attempts - 1, 30), policy.maxDelay.wholeMicroseconds)
            let jittered = wait - Int64.random(in: 0...(wait / 5))
            try await finish(delivery, now: now, outcome: .retry(at: now + .microseconds(jittered), failure))
        }
        return Attempt(deliveryId: delivery.deliveryId, delivered: false, error: failure)
    }

    private enum Outcome {
        case delivered
        case retry(at: Timestamp, String)
        case gaveUp(String)
    }

    private func finish(_ delivery: Claimed, now: Timestamp, outcome: Outcome) async throws {
        try await database.write { db in
            switch outcome {
            case .delivered:
                try db.execute(sql: "UPDATE webhook_outbox SET delivered_at = ?, attempts = attempts + 1, lease_until = NULL, last_error = NULL WHERE delivery_id = ?",
                               arguments: [now.iso8601, delivery.deliveryId])
            case .retry(let at, let error):
                try db.execute(sql: "UPDATE webhook_outbox SET attempts = attempts + 1, next_attempt_at = ?, lease_until = NULL, last_error = ? WHERE delivery_id = ?",
                               arguments: [at.iso8601, error, delivery.deliveryId])
            case .gaveUp(let error):
                try db.execute(sql: "UPDATE webhook_outbox SET attempts = attempts + 1, gave_up_at = ?, lease_until = NULL, last_error = ? WHERE delivery_id = ?",
                               arguments: [now.iso8601, error, delivery.deliveryId])
            }
        }
    }
}

/// The signature of a webhook body.
public enum WebhookSignature {
    /// `sha256=` and the hex HMAC-SHA256 of `body` under `secret`.
    public static func header(body: [UInt8], secret: [UInt8]) -> String {
        "sha256=" + Sodium.hmacSHA256(body, key: secret).hex
    }

    /// Whether `header` signs `body` under `secret` (compared in constant time).
    public static func verify(_ header: String, body: [UInt8], secret: [UInt8]) -> Bool {
        Sodium.constantTimeEqual(Array(header.utf8), Array(self.header(body: body, secret: secret).utf8))
    }
}

/// One row of the outbox, as an admin sees it.
public struct WebhookDelivery: Sendable, Codable, Equatable {
    public var deliveryId: String
    public var webhookId: String
    public var eventPosition: Int64
    /// `pending`, `delivered` or `gave up`.
    public var state: String
    public var attempts: Int
    public var nextAttemptAt: String
    public var lastError: String?

    /// A project's deliveries, newest event first.
    public static func list(project: String, limit: Int, _ db: any SQLSession) throws -> [WebhookDelivery] {
        try db.fetchAll(sql: """
            SELECT delivery_id, webhook_id, event_position, attempts, next_attempt_at, delivered_at, gave_up_at, last_error
            FROM webhook_outbox WHERE project_id = ? ORDER BY event_position DESC, webhook_id LIMIT ?
            """, arguments: [project, limit]).map { row in
            let delivered: String? = try row["delivered_at"]
            let gaveUp: String? = try row["gave_up_at"]
            return WebhookDelivery(deliveryId: try row["delivery_id"], webhookId: try row["webhook_id"], eventPosition: try row["event_position"],
                                   state: delivered != nil ? "delivered" : gaveUp != nil ? "gave up" : "pending",
                                   attempts: try row["attempts"], nextAttemptAt: try row["next_attempt_at"], lastError: try row["last_error"])
        }
    }
}
