import CredlogEvents

/// Status history queries.
public enum StatusHistoryQuery {
    /// A connection's status transitions, oldest first.
    public static func history(of connectionId: String, _ db: any SQLSession) throws -> [StatusChange] {
        try db.fetchAll(StatusChange.self, sql: "SELECT * FROM status_history WHERE connection_id = ? ORDER BY position",
                                  arguments: [connectionId])
    }
}
