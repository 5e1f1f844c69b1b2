import CredlogEvents

/// An active connection whose credential expires soon: the answer to "what is about to break?".
public struct ExpiringConnection: Sendable, Equatable, ReadModelRecord {
    public var id: String
    public var projectId: String
    public var name: String
    public var piece: String
    public var authType: String
    public var credentialExpiresAt: String
    /// Whether credlog renews it itself (OAuth2 with a refresh token — and, as the lifecycle
    /// reports it, a registered client for its piece); if not, a person must.
    public var renewsItself: Bool

}

/// The connections whose credentials expire within a window, soonest first.
public enum ExpiringQuery {
    /// Active connections expiring before `until` (already expired ones included), in `projects` (`nil`: all).
    public static func connections(expiringBefore until: Timestamp, projects: [String]?, _ db: any SQLSession) throws -> [ExpiringConnection] {
        var sql = """
            SELECT id, project_id, name, piece, auth_type, credential_expires_at, credential_refreshable AS renews_itself FROM connections
            WHERE status = 'active' AND credential_expires_at IS NOT NULL AND credential_expires_at <= ?
            """
        let (inProjects, projectIds) = SQLArguments.membership("project_id", in: projects ?? [])
        if projects != nil { sql += " AND " + inProjects }
        return try db.fetchAll(ExpiringConnection.self, sql: sql + " ORDER BY credential_expires_at, id", arguments: [until.iso8601] + projectIds)
    }

    /// Up to `limit` active connections of `pieces` not rechecked (nor given a credential) since
    /// `before`, longest unchecked first: the sweeper's daily recheck.
    public static func dueForRecheck(before: Timestamp, pieces: [String], limit: Int, _ db: any SQLSession) throws -> [String] {
        guard !pieces.isEmpty else { return [] }
        let (inPieces, names) = SQLArguments.membership("piece", in: pieces)
        return try db.fetchAll(sql: """
            SELECT id FROM connections
            WHERE status = 'active' AND \(inPieces) AND COALESCE(last_checked_at, credential_set_at) <= ?
            ORDER BY COALESCE(last_checked_at, credential_set_at), id LIMIT ?
            """, arguments: names + [before.iso8601, limit]).map { try $0[0] as String }
    }

    /// Active OAuth2 connections with a refresh token whose credential was set before `setBefore`
    /// (the sweeper's daily refresh), oldest first.
    public static func idleRefreshable(setBefore: Timestamp, _ db: any SQLSession) throws -> [String] {
        try db.fetchAll(sql: """
            SELECT id FROM connections
            WHERE status = 'active' AND auth_type = 'oauth2' AND credential_refreshable = 1 AND credential_set_at <= ?
            ORDER BY credential_set_at, id
            """, arguments: [setBefore.iso8601]).map { try $0[0] as String }
    }
}
