import CredlogEvents

/// Who belongs to which project, with which role: answers "what may this member see?".
public struct ProjectMembersProjection: Projection {
    public let name = "project-members"
    public let version = 1
    public let tables = ["project_members"]

    public init() {}

    public func createTables(_ db: any SQLSession) throws {
        try db.executeScript(db.dialect.tableDefinition("""
            CREATE TABLE project_members (
                project_id TEXT NOT NULL, member_id TEXT NOT NULL, role TEXT NOT NULL, since TEXT NOT NULL,
                PRIMARY KEY (project_id, member_id));
            CREATE INDEX project_members_by_member ON project_members (member_id);
            """))
    }

    public func apply(_ event: ProjectedEvent, _ db: any SQLSession) throws {
        guard case .membership(let decoded) = event.payload, let projectId = event.recorded.stream.projectId else { return }
        switch decoded {
        case .memberAdded(let added):
            try db.execute(sql: """
                INSERT INTO project_members (project_id, member_id, role, since) VALUES (?, ?, ?, ?)
                ON CONFLICT (project_id, member_id) DO UPDATE SET role = excluded.role, since = excluded.since
                """,
                           arguments: [projectId, added.memberId, added.role.rawValue, event.recorded.recordedAt.iso8601])
        case .roleChanged(let changed):
            try db.execute(sql: "UPDATE project_members SET role = ? WHERE project_id = ? AND member_id = ?",
                           arguments: [changed.to.rawValue, projectId, changed.memberId])
        case .memberRemoved(let removed):
            try db.execute(sql: "DELETE FROM project_members WHERE project_id = ? AND member_id = ?",
                           arguments: [projectId, removed.memberId])
        case .pieceRegistered, .webhookAdded, .webhookRemoved, .tokenIssued, .tokenRevoked, .tokenRotated:
            break
        }
    }

    /// The projects a member belongs to.
    public static func projects(of memberId: String, _ db: any SQLSession) throws -> [String] {
        try db.fetchAll(sql: "SELECT project_id FROM project_members WHERE member_id = ? ORDER BY project_id", arguments: [memberId])
            .map { try $0[0] as String }
    }
}
