import CredlogDomain
import CredlogEvents
import Testing

@Suite("Membership decisions")
struct MembershipDeciderTests {
    static let founded: [MembershipEvent] = [.memberAdded(.init(projectId: "acme", memberId: "alice", role: .admin))]

    func when(_ given: [MembershipEvent], _ command: MembershipCommand, by principal: Principal) throws(DomainError) -> [MembershipEvent] {
        let state = ProjectState.fold(given)
        return try MembershipDecider.decide(command, by: Caller(principal, in: state), projectId: "acme", state: state)
    }

    func refusal(_ given: [MembershipEvent], _ command: MembershipCommand, by principal: Principal) -> DomainError? {
        do {
            _ = try when(given, command, by: principal)
            return nil
        } catch { return error }
    }

    @Test func anOperatorCreatesAProjectWithItsFirstAdmin() throws {
        #expect(try when([], .createProject(projectId: "acme", admin: "alice"), by: .system) == Self.founded)
        #expect(refusal(Self.founded, .createProject(projectId: "acme", admin: "bob"), by: .system) == .alreadyExists("project acme"))
        guard case .forbidden = refusal([], .createProject(projectId: "acme", admin: "bob"), by: .member("bob")) else {
            Issue.record("a member created a project"); return
        }
        guard case .invalid = refusal([], .createProject(projectId: "ac me", admin: "bob"), by: .system) else {
            Issue.record("bad project id accepted"); return
        }
        guard case .invalid = refusal([], .createProject(projectId: "acme", admin: "engine"), by: .system) else {
            Issue.record("reserved member id accepted"); return
        }
    }

    @Test func adminsManageMembers() throws {
        let added = try when(Self.founded, .addMember("bob", .member), by: .member("alice"))
        #expect(added == [.memberAdded(.init(projectId: "acme", memberId: "bob", role: .member))])
        let given = Self.founded + added
        #expect(ProjectState.fold(given).members == ["alice": .admin, "bob": .member])
        #expect(try when(given, .changeRole("bob", .admin), by: .member("alice")) == [.roleChanged(.init(memberId: "bob", from: .member, to: .admin))])
        #expect(try when(given, .changeRole("bob", .member), by: .member("alice")) == [], "same role changes nothing")
        #expect(try when(given, .removeMember("bob"), by: .member("alice")) == [.memberRemoved(.init(memberId: "bob"))])
    }

    @Test func membersAndOutsidersCannotManageMembers() {
        let given = Self.founded + [.memberAdded(.init(projectId: "acme", memberId: "bob", role: .member))]
        guard case .forbidden = refusal(given, .addMember("carol", .admin), by: .member("bob")) else { Issue.record("member added"); return }
        guard case .forbidden = refusal(given, .changeRole("bob", .admin), by: .member("bob")) else { Issue.record("self-promotion"); return }
        #expect(refusal(given, .addMember("carol", .member), by: .member("mallory")) == .notFound("project acme"))
        guard case .forbidden = refusal(given, .removeMember("bob"), by: .engine) else { Issue.record("engine removed"); return }
    }

    @Test func aProjectKeepsAnAdmin() {
        guard case .invalid = refusal(Self.founded, .removeMember("alice"), by: .member("alice")) else { Issue.record("last admin removed"); return }
        guard case .invalid = refusal(Self.founded, .changeRole("alice", .member), by: .member("alice")) else {
            Issue.record("last admin demoted"); return
        }
    }

    @Test func unknownProjectsAndMembers() {
        #expect(refusal([], .addMember("bob", .member), by: .system) == .notFound("project acme"))
        #expect(refusal(Self.founded, .removeMember("zed"), by: .system) == .notFound("member zed of project acme"))
        #expect(refusal(Self.founded, .addMember("alice", .member), by: .system) == .alreadyExists("member alice of project acme"))
    }

    @Test func adminsRegisterValidPiecesAndManageWebhooks() throws {
        let secret = SealedCredentials(authType: .custom, keyId: "dk-p", box: "Ym94", fingerprint: "fp:s", expiresAt: nil)
        let oauth = OAuth2Settings(authorizeUrl: "https://p.test/authorize", tokenUrl: "https://p.test/token", scopes: ["a"],
                                   clientId: "client", pkce: true, clientAuthentication: .basic)
        let piece = PieceDefinition(id: "testmail", displayName: "Test Mail", authType: .oauth2, oauth2: oauth)
        let events = try when(Self.founded, .registerPiece(piece, clientSecret: secret), by: .member("alice"))
        #expect(events == [.pieceRegistered(.init(piece: piece, clientSecret: secret))])
        #expect(ProjectState.fold(Self.founded + events).pieces["testmail"]?.piece == piece)

        let member: [MembershipEvent] = Self.founded + [.memberAdded(.init(projectId: "acme", memberId: "bob", role: .member))]
        guard case .forbidden = refusal(member, .registerPiece(piece, clientSecret: secret), by: .member("bob")) else {
            Issue.record("a member registered a piece"); return
        }
        var broken: [PieceDefinition] = []
        var noClient = oauth
        noClient.clientId = nil
        broken.append(PieceDefinition(id: "x", displayName: "X", authType: .oauth2, oauth2: noClient))
        var badURL = oauth
        badURL.tokenUrl = "file:///etc/passwd"
        broken.append(PieceDefinition(id: "x", displayName: "X", authType: .oauth2, oauth2: badURL))
        broken.append(PieceDefinition(id: "X Y", displayName: "X", authType: .apiKey))
        broken.append(PieceDefinition(id: "x", displayName: "X", authType: .apiKey, oauth2: oauth))
        broken.append(PieceDefinition(id: "x", displayName: "X", authType: .apiKey, validation: .init(
            method: "DELETE", url: "https://p.test", credential: .init(location: .header, name: "A", value: "{apiKey}"), validStatuses: [200])))
        for definition in broken {
            guard case .invalid = refusal(Self.founded, .registerPiece(definition, clientSecret: nil), by: .member("alice")) else {
                Issue.record("accepted \(definition)"); return
            }
        }
        // A client authenticating with HTTP Basic needs its secret.
        guard case .invalid = refusal(Self.founded, .registerPiece(piece, clientSecret: nil), by: .member("alice")) else {
            Issue.record("no secret accepted"); return
        }

        let added = try when(Self.founded, .addWebhook(id: "wh_1", url: "https://hooks.test/x", secret: secret, warnDaysAhead: 3),
                             by: .member("alice"))
        #expect(ProjectState.fold(Self.founded + added).webhooks["wh_1"]?.url == "https://hooks.test/x")
        #expect(ProjectState.fold(Self.founded + added).webhooks["wh_1"]?.warningLead == 3)
        #expect(refusal(Self.founded + added, .addWebhook(id: "wh_1", url: "https://hooks.test/y", secret: secret, warnDaysAhead: 7),
                        by: .member("alice")) == .alreadyExists("webhook wh_1"))
        for lead in [0, -1, 91, Int.max] {
            guard case .invalid = refusal(Self.founded, .addWebhook(id: "wh_2", url: "https://hooks.test/x", secret: secret, warnDaysAhead: lead),
                                          by: .member("alice")) else { Issue.record("a lead of \(lead) days accepted"); return }
        }
        #expect(try when(Self.founded + added, .removeWebhook(id: "wh_1"), by: .member("alice")) == [.webhookRemoved(.init(webhookId: "wh_1"))])
        #expect(refusal(Self.founded, .removeWebhook(id: "wh_1"), by: .member("alice")) == .notFound("webhook wh_1 of project acme"))
    }
}
