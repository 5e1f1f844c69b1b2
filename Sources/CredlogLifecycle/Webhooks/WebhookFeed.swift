import CredlogDomain
import CredlogEvents
import CredlogProjections
import Foundation

/// Feeds the webhook outbox from the log: a connection turning Inactive, or recovering, becomes
/// one notification per webhook of its project at that moment; a warning that a credential
/// expires soon (`connection.expiry-warned`, recorded by the sweeper for one webhook) becomes a
/// `connection.expiring` notification to that webhook.
///
/// Its position, the fold it keeps (each project's webhooks, each connection's name and status)
/// and the notifications it enqueues commit in one transaction, and a delivery id is derived from
/// the event and the webhook: however often a process dies and resumes, each notification is
/// enqueued once. It is not a projection: a rebuild of the read models does not send anything again.
public struct WebhookFeed: Sendable {
    let database: any SQLDatabase
    let batchSize: Int

    public init(database: any SQLDatabase, batchSize: Int = 500) {
        self.database = database
        self.batchSize = batchSize
    }

    /// Reads the log from the feed's position to the head; returns the notifications enqueued.
    @discardableResult
    public func advance() async throws -> Int {
        // Usually there is nothing new: check with a read, so that an idle feed takes no write lock.
        let behind = try await database.read { db -> Bool in
            try db.fetchValue(sql: "SELECT (SELECT position FROM webhook_feed) < (SELECT COALESCE(MAX(position), 0) FROM events)") ?? false
        }
        guard behind else { return 0 }
        var enqueued = 0
        while true {
            let (count, more) = try await database.write { db in try advanceOneBatch(db) }
            enqueued += count
            if !more { return enqueued }
        }
    }

    private func advanceOneBatch(_ db: any SQLSession) throws -> (Int, Bool) {
        let position: Int64 = try db.fetchValue(sql: "SELECT position FROM webhook_feed") ?? 0
        let events = try db.fetchEvents(sql: "SELECT \(RecordedEvent.columns) FROM events WHERE position > ? ORDER BY position LIMIT ?",
                                        arguments: [position, batchSize])
        var enqueued = 0
        for recorded in events {
            enqueued += try apply(ProjectedEvent(recorded), db)
        }
        guard let last = events.last else { return (0, false) }
        try db.execute(sql: "UPDATE webhook_feed SET position = ?", arguments: [last.position])
        return (enqueued, events.count == batchSize)
    }

    private func apply(_ event: ProjectedEvent, _ db: any SQLSession) throws -> Int {
        let recorded = event.recorded
        switch event.payload {
        case .membership(.webhookAdded(let added)):
            try db.execute(sql: """
                INSERT INTO webhook_targets VALUES (?, ?, ?, ?)
                ON CONFLICT (project_id, webhook_id) DO UPDATE SET url = excluded.url, secret_version = excluded.secret_version
                """,
                           arguments: [recorded.projectId, added.webhookId, added.url, recorded.streamVersion])
        case .membership(.webhookRemoved(let removed)):
            try db.execute(sql: "DELETE FROM webhook_targets WHERE project_id = ? AND webhook_id = ?",
                           arguments: [recorded.projectId, removed.webhookId])
        case .connection(let decoded):
            guard let id = recorded.stream.connectionId else { return 0 }
            let row = try db.fetchOne(sql: "SELECT name, piece, status FROM webhook_connections WHERE connection_id = ?", arguments: [id])
            let status: String? = try row?["status"]
            switch decoded {
            case .created(let created):
                try db.execute(sql: """
                    INSERT INTO webhook_connections VALUES (?, ?, ?, 'active')
                    ON CONFLICT (connection_id) DO UPDATE SET name = excluded.name, piece = excluded.piece, status = 'active'
                    """,
                               arguments: [id, created.name, created.piece])
            case .renamed(let renamed):
                try db.execute(sql: "UPDATE webhook_connections SET name = ? WHERE connection_id = ?", arguments: [renamed.to, id])
            case .deleted:
                try db.execute(sql: "DELETE FROM webhook_connections WHERE connection_id = ?", arguments: [id])
            case .expired, .revoked, .reconnected:
                // Only a change between active and inactive is announced.
                guard let row, let change = StatusTransition(from: status.flatMap(StatusName.init(rawValue:)), by: decoded),
                      change.from != change.to else { return 0 }
                try db.execute(sql: "UPDATE webhook_connections SET status = ? WHERE connection_id = ?",
                               arguments: [change.to.rawValue, id])
                return try enqueue(change.to == .inactive ? .inactive : .recovered, reason: change.reason ?? "", name: row["name"],
                                   piece: row["piece"], event: recorded, db)
            case .expiryWarned(let warning):
                guard let row else { return 0 }
                return try enqueue(.expiring, reason: "the credential expires at \(warning.expiresAt)", name: row["name"], piece: row["piece"],
                                   event: recorded, only: warning.webhookId, expiresAt: warning.expiresAt, db)
            case .attachedToFlow, .detachedFromFlow, .tokenRefreshed, .credentialsResealed, .checked:
                break
            }
        default:
            break
        }
        return 0
    }

    /// Enqueues the notification for every webhook of the event's project, or `only` one of them.
    private func enqueue(_ kind: WebhookNotification.Kind, reason: String, name: String, piece: String, event: RecordedEvent,
                         only webhook: String? = nil, expiresAt: String? = nil, _ db: any SQLSession) throws -> Int {
        var sql = "SELECT webhook_id, url, secret_version FROM webhook_targets WHERE project_id = ?"
        var arguments: SQLArguments = [event.projectId]
        if let webhook {
            sql += " AND webhook_id = ?"
            arguments.append(webhook)
        }
        let targets = try db.fetchAll(sql: sql + " ORDER BY webhook_id", arguments: arguments)
        for target in targets {
            let webhookId: String = try target["webhook_id"]
            let deliveryId = WebhookNotification.deliveryId(eventId: event.eventId.uuidString.lowercased(), webhookId: webhookId)
            let notification = WebhookNotification(
                deliveryId: deliveryId, type: kind.rawValue, occurredAt: event.recordedAt.iso8601, projectId: event.projectId,
                connection: .init(id: event.stream.connectionId ?? "", name: name, piece: piece),
                status: kind == .inactive ? "inactive" : "active", reason: reason, eventPosition: event.position,
                actor: event.actor.id, expiresAt: expiresAt)
            try db.execute(sql: """
                INSERT INTO webhook_outbox (delivery_id, project_id, webhook_id, url, secret_version, event_position, body,
                                            next_attempt_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT DO NOTHING
                """, arguments: [deliveryId, event.projectId, webhookId, target["url"] as String, target["secret_version"] as Int64, event.position,
                                 try notification.json(), event.recordedAt.iso8601])
        }
        return targets.count
    }
}

/// The JSON a webhook receives.
public struct WebhookNotification: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable {
        case inactive = "connection.inactive"
        case recovered = "connection.recovered"
        /// Still active, but its credential expires soon and credlog cannot renew it: reconnect it.
        case expiring = "connection.expiring"
    }

    /// The same for every attempt to deliver this notification to this webhook: receivers dedupe on it.
    public var deliveryId: String
    /// `connection.inactive`, `connection.recovered` or `connection.expiring`.
    public var type: String
    public var occurredAt: String
    public var projectId: String
    public var connection: ConnectionRef
    /// The status it turned to.
    public var status: String
    public var reason: String
    /// The log position of the event, for `credlog log` and time travel.
    public var eventPosition: Int64
    /// Who caused it (`system` for the sweeper and refreshes).
    public var actor: String
    /// For `connection.expiring`: when the credential expires.
    public var expiresAt: String?

    public struct ConnectionRef: Sendable, Codable, Equatable {
        public var id: String
        public var name: String
        public var piece: String
    }

    static func deliveryId(eventId: String, webhookId: String) -> String {
        "dlv_" + KeyedHash.digest(Array("\(eventId)/\(webhookId)".utf8), key: Array("credlog webhook delivery v1".utf8),
                                  outputLength: 16).hex
    }

    func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
