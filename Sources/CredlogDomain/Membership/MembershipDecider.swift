import CredlogEvents

/// What can be asked of a project's membership.
public enum MembershipCommand: Sendable, Equatable {
    /// Creates the project with its first admin.
    case createProject(projectId: String, admin: String)
    case addMember(String, Role)
    case changeRole(String, Role)
    case removeMember(String)
    /// Registers a piece (or the project's OAuth2 client for a catalogued one), its client secret sealed.
    case registerPiece(PieceDefinition, clientSecret: SealedCredentials?)
    /// Adds a webhook with its signing secret (sealed).
    case addWebhook(id: String, url: String, secret: SealedCredentials, warnDaysAhead: Int)
    case removeWebhook(id: String)
    /// Records an API token issued for the project at `now` (its secret's keyed hash travels
    /// beside the event).
    case issueToken(MembershipEvent.TokenIssued, now: Timestamp)
    /// Records a token's new secret; the former one is accepted until `previousValidUntil`.
    case rotateToken(id: String, previousValidUntil: Timestamp, now: Timestamp)
    case revokeToken(id: String)

    /// The name kept in the audit trail.
    public var auditName: String {
        switch self {
        case .createProject: "project.create"
        case .addMember: "member.add"
        case .changeRole: "member.role"
        case .removeMember: "member.remove"
        case .registerPiece: "piece.register"
        case .addWebhook: "webhook.add"
        case .removeWebhook: "webhook.remove"
        case .issueToken: "token.issue"
        case .rotateToken: "token.rotate"
        case .revokeToken: "token.revoke"
        }
    }
}

/// The decisions of a project: pure.
public enum MembershipDecider {
    /// Only the project's admins (and the operator, as `system`) change an existing project.
    public static func authorize(_ caller: Caller, projectId: String, state: ProjectState) throws(DomainError) {
        guard state.exists else { throw DomainError.notFound("project \(projectId)") }
        switch caller {
        case .outsider: throw DomainError.notFound("project \(projectId)")
        case .member(_, .admin), .system: break
        default: throw DomainError.forbidden("only admins of the project manage its members, pieces and webhooks; \(caller.id) is \(caller.roleName)")
        }
    }

    public static func decide(_ command: MembershipCommand, by caller: Caller, projectId: String,
                              state: ProjectState) throws(DomainError) -> [MembershipEvent] {
        if case .createProject(let project, let admin) = command {
            guard !state.exists else { throw DomainError.alreadyExists("project \(project)") }
            guard caller == .system else { throw DomainError.forbidden("projects are created by an operator (as system)") }
            return [.memberAdded(.init(projectId: try Identifier.project(project), memberId: try Identifier.member(admin), role: .admin))]
        }
        guard state.exists else { throw DomainError.notFound("project \(projectId)") }
        switch caller {
        case .outsider: throw DomainError.notFound("project \(projectId)")
        case .member(_, .admin), .system: break
        default: throw DomainError.forbidden("only admins of the project manage its members, pieces and webhooks; \(caller.id) is \(caller.roleName)")
        }

        switch command {
        case .createProject:
            return []
        case .addMember(let raw, let role):
            let member = try Identifier.member(raw)
            guard state.members[member] == nil else { throw DomainError.alreadyExists("member \(member) of project \(projectId)") }
            return [.memberAdded(.init(projectId: projectId, memberId: member, role: role))]
        case .changeRole(let member, let role):
            guard let current = state.members[member] else { throw DomainError.notFound("member \(member) of project \(projectId)") }
            if current == role { return [] }
            if current == .admin, state.adminCount == 1 {
                throw DomainError.invalid("\(member) is the project's last admin; make another admin first")
            }
            return [.roleChanged(.init(memberId: member, from: current, to: role))]
        case .removeMember(let member):
            guard let current = state.members[member] else { throw DomainError.notFound("member \(member) of project \(projectId)") }
            if current == .admin, state.adminCount == 1 {
                throw DomainError.invalid("\(member) is the project's last admin; make another admin first")
            }
            return [.memberRemoved(.init(memberId: member))]
        case .registerPiece(let piece, let clientSecret):
            return [.pieceRegistered(.init(piece: try PieceRules.validate(piece, clientSecret: clientSecret), clientSecret: clientSecret))]
        case .addWebhook(let id, let url, let secret, let warnDaysAhead):
            guard state.webhooks[id] == nil else { throw DomainError.alreadyExists("webhook \(id)") }
            let leads = MembershipEvent.WebhookAdded.warnDaysAheadRange
            guard leads.contains(warnDaysAhead) else {
                throw DomainError.invalid("a webhook is warned \(leads.lowerBound) to \(leads.upperBound) days before an expiry")
            }
            return [.webhookAdded(.init(webhookId: try Identifier.check(id, what: "webhook id"), url: try PieceRules.httpURL(url, what: "the webhook URL"),
                                        secret: secret, warnDaysAhead: warnDaysAhead))]
        case .removeWebhook(let id):
            guard state.webhooks[id] != nil else { throw DomainError.notFound("webhook \(id) of project \(projectId)") }
            return [.webhookRemoved(.init(webhookId: id))]
        case .issueToken(let token, let now):
            guard (token.kind == .member) == (token.memberId != nil) else {
                throw DomainError.invalid("a member token names its member; an engine token none")
            }
            if token.kind == .engine {
                guard caller == .system else { throw DomainError.forbidden("engine tokens read plaintext credentials: only an operator issues them") }
                guard token.effectiveScope == .full else { throw DomainError.invalid("an engine token cannot be read-only") }
            }
            if let member = token.memberId, state.members[member] == nil {
                throw DomainError.notFound("member \(member) in project \(projectId)")
            }
            try TokenRules.checkActingAs(token, by: caller, action: "issues")
            try TokenRules.checkExpiry(token.expiresAt, now: now, issuedBy: caller)
            guard state.tokens[token.tokenId] == nil else { throw DomainError.alreadyExists("token \(token.tokenId)") }
            return [.tokenIssued(token)]
        case .rotateToken(let id, let previousValidUntil, let now):
            guard let token = state.tokens[id] else { throw DomainError.notFound("live token \(id)") }
            if token.kind == .engine, caller != .system {
                throw DomainError.forbidden("engine tokens read plaintext credentials: only an operator rotates them")
            }
            try TokenRules.checkActingAs(token, by: caller, action: "rotates")
            if let expiresAt = token.expiresAt, let end = Timestamp(iso8601: expiresAt), !(now < end) {
                throw DomainError.invalid("token \(id) expired at \(expiresAt); issue a new one")
            }
            try TokenRules.checkGrace(until: previousValidUntil, now: now)
            return [.tokenRotated(.init(tokenId: id, previousSecretValidUntil: previousValidUntil.iso8601))]
        case .revokeToken(let id):
            guard state.tokens[id] != nil else { throw DomainError.notFound("live token \(id)") }
            return [.tokenRevoked(.init(tokenId: id))]
        }
    }
}
