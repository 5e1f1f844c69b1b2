import CredlogDomain
import CredlogEvents

/// Status history queries.
public enum StatusHistoryQuery {
    /// The most changes in one page.
    public static let maxLimit = 1000

    /// One page of a connection's status history.
    public struct Page: Sendable, Encodable {
        public var changes: [StatusChange]
        /// Where the next page starts (the last change's log position); `nil` when this page ends the history.
        public var nextCursor: String?
    }

    /// A connection's status transitions, oldest first.
    public static func history(of connectionId: String, _ db: any SQLSession) throws -> [StatusChange] {
        try db.fetchAll(StatusChange.self, sql: "SELECT * FROM status_history WHERE connection_id = ? ORDER BY position",
                                  arguments: [connectionId])
    }

    /// At most `limit` (1…``maxLimit``) of a connection's transitions after the cursor `after`, oldest first.
    public static func page(of connectionId: String, limit: Int, after: String?, _ db: any SQLSession) throws -> Page {
        let limit = min(max(1, limit), maxLimit)
        let start = try after.map(cursor) ?? 0
        var changes = try db.fetchAll(StatusChange.self, sql: """
            SELECT * FROM status_history WHERE connection_id = ? AND position > ? ORDER BY position LIMIT ?
            """, arguments: [connectionId, start, limit + 1])
        let more = changes.count > limit
        if more { changes.removeLast() }
        return Page(changes: changes, nextCursor: more ? changes.last.map { String($0.position) } : nil)
    }

    /// A cursor this query issued: a log position.
    private static func cursor(_ text: String) throws -> Int64 {
        guard text.utf8.count <= 20, let position = Int64(text), position >= 0 else {
            throw DomainError.invalid("the cursor is not one credlog issued; start again without it")
        }
        return position
    }
}
