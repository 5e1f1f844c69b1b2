import CredlogDomain
import CredlogEvents
import Testing

/// Given these events, when this command, then these events (or this refusal). No database.
@Suite("Connection decisions")
struct ConnectionDeciderTests {
    static let admin = Caller.member("alice", .admin)
    static let member = Caller.member("bob", .member)
    static let outsider = Caller.outsider("mallory")

    static func sealed(_ authType: AuthType = .apiKey, fingerprint: String = "fp:1") -> SealedCredentials {
        SealedCredentials(authType: authType, keyId: "dk-1", box: "Ym94", fingerprint: fingerprint, expiresAt: nil)
    }

    static let created = ConnectionEvent.created(.init(
        connectionId: "conn_1", projectId: "acme", piece: "gmail", authType: .apiKey, name: "Gmail", credentials: sealed()))

    /// Decides `command` on the state left by `given`.
    func when(_ given: [ConnectionEvent], _ command: ConnectionCommand, by caller: Caller = admin) throws(DomainError) -> [ConnectionEvent] {
        try ConnectionDecider.decide(command, by: caller, state: ConnectionState.fold(given))
    }

    /// Decides, applies the events, decides again: the second run must change nothing.
    func whenTwice(_ given: [ConnectionEvent], _ command: ConnectionCommand, by caller: Caller = admin) throws -> [ConnectionEvent] {
        let first = try when(given, command, by: caller)
        #expect(try when(given + first, command, by: caller) == [], "the same command again changes nothing")
        return first
    }

    func refusal(_ given: [ConnectionEvent], _ command: ConnectionCommand, by caller: Caller = admin) -> DomainError? {
        do {
            _ = try when(given, command, by: caller)
            return nil
        } catch {
            return error
        }
    }

    @Test func aMemberCreatesAConnectionWithATrimmedName() throws {
        let events = try when([], .create(.init(connectionId: "conn_1", projectId: "acme", piece: "gmail",
                                                name: "  Gmail \n", credentials: Self.sealed())), by: Self.member)
        guard case .created(let created) = events.first, events.count == 1 else { Issue.record("expected one created"); return }
        #expect(created.name == "Gmail")
        #expect(created.authType == .apiKey)
    }

    @Test(arguments: ["", "   ", String(repeating: "n", count: 201), "a\u{0}b", "line\nbreak", "bad \u{FFFD} bytes"])
    func invalidNamesAreRefused(name: String) {
        let create = ConnectionCommand.create(.init(connectionId: "conn_1", projectId: "acme", piece: "gmail", name: name,
                                                   credentials: Self.sealed()))
        guard case .invalid = refusal([], create, by: Self.member) else { Issue.record("\(name.prefix(20)) accepted"); return }
        guard case .invalid = refusal([Self.created], .rename(name)) else { Issue.record("rename to invalid accepted"); return }
    }

    @Test func aNameOf200CharactersIsAccepted() throws {
        let name = String(repeating: "é", count: 200)
        #expect(try when([Self.created], .rename(name)) == [.renamed(.init(from: "Gmail", to: name))])
    }

    @Test func renamingToTheSameNameAppendsNothing() throws {
        #expect(try when([Self.created], .rename(" Gmail ")) == [])
        #expect(try whenTwice([Self.created], .rename("Gmail - Support")) == [.renamed(.init(from: "Gmail", to: "Gmail - Support"))])
    }

    @Test func reconnectingAnActiveConnectionRotatesItsKey() throws {
        let new = Self.sealed(fingerprint: "fp:2")
        #expect(try when([Self.created], .reconnect(new)) == [.reconnected(.init(credentials: new))])
    }

    @Test func reconnectingMakesAnExpiredConnectionActive() throws {
        let given = [Self.created, .expired(.init(reason: "token expired"))]
        #expect(ConnectionState.fold(given).connection?.status == .inactive(.init(kind: .expired, reason: "token expired")))
        let events = try when(given, .reconnect(Self.sealed(fingerprint: "fp:2")))
        #expect(ConnectionState.fold(given + events).connection?.status == .active)
    }

    @Test func reconnectWithCredentialsOfAnotherAuthTypeIsRefused() {
        guard case .invalid = refusal([Self.created], .reconnect(Self.sealed(.basic))) else { Issue.record("accepted"); return }
    }

    @Test func expireAndRevokeMakeItInactiveWithAReason() throws {
        #expect(try whenTwice([Self.created], .expire(reason: "token expired"), by: .engine) == [.expired(.init(reason: "token expired"))])
        #expect(try whenTwice([Self.created], .revoke(reason: "leaked"), by: Self.admin) == [.revoked(.init(reason: "leaked"))])
        // A revoked connection does not "expire" on top; an expired one can still be revoked.
        #expect(try when([Self.created, .revoked(.init(reason: "leaked"))], .expire(reason: "x"), by: .system) == [])
        #expect(try when([Self.created, .expired(.init(reason: "x"))], .revoke(reason: "leaked")) == [.revoked(.init(reason: "leaked"))])
        guard case .invalid = refusal([Self.created], .expire(reason: "  "), by: .system) else { Issue.record("empty reason"); return }
    }

    @Test func aTokenRefreshReplacesTheCurrentCredentialOnly() throws {
        let oauth = ConnectionEvent.created(.init(connectionId: "conn_1", projectId: "acme", piece: "gmail", authType: .oauth2,
                                                  name: "Gmail", credentials: Self.sealed(.oauth2, fingerprint: "fp:1")))
        let new = Self.sealed(.oauth2, fingerprint: "fp:2")
        let events = try whenTwice([oauth], .refresh(new, replacing: "fp:1"), by: .engine)
        #expect(events == [.tokenRefreshed(.init(credentials: new, previousFingerprint: "fp:1"))])
        #expect(ConnectionState.fold([oauth] + events).connection?.credentials == new)
        #expect(ConnectionState.fold([oauth] + events).connection?.status == .active, "a refresh changes no status")
        // The credential was replaced meanwhile (a person reconnected): the refresh is dropped.
        #expect(try when([oauth, .reconnected(.init(credentials: Self.sealed(.oauth2, fingerprint: "fp:9")))],
                         .refresh(new, replacing: "fp:1"), by: .system) == [])
        guard case .invalid = refusal([oauth, .expired(.init(reason: "x"))], .refresh(new, replacing: "fp:1"), by: .system) else {
            Issue.record("an inactive connection was refreshed"); return
        }
        guard case .invalid = refusal([Self.created], .refresh(new, replacing: "fp:1"), by: .system) else {
            Issue.record("an API key was refreshed"); return
        }
        guard case .forbidden = refusal([oauth], .refresh(new, replacing: "fp:1"), by: Self.admin) else {
            Issue.record("a person recorded a refresh"); return
        }
    }

    @Test func flowsAttachAndDetachOnce() throws {
        #expect(try whenTwice([Self.created], .attach(flowId: "flow-1"), by: Self.member) == [.attachedToFlow(.init(flowId: "flow-1"))])
        let attached = [Self.created, .attachedToFlow(.init(flowId: "flow-1"))]
        #expect(try whenTwice(attached, .detach(flowId: "flow-1"), by: .engine) == [.detachedFromFlow(.init(flowId: "flow-1"))])
        #expect(try when([Self.created], .detach(flowId: "flow-1"), by: Self.member) == [])
        #expect(ConnectionState.fold(attached).connection?.flows == ["flow-1"])
    }

    @Test func nothingHappensToADeletedConnection() {
        let given = [Self.created, .deleted]
        let commands: [ConnectionCommand] = [.reconnect(Self.sealed()), .rename("x"), .expire(reason: "x"), .revoke(reason: "x"),
                                             .delete, .attach(flowId: "f"), .detach(flowId: "f")]
        for command in commands {
            #expect(refusal(given, command, by: .system) == .connectionDeleted("conn_1"))
            #expect(refusal(given, command, by: Self.admin) == .connectionDeleted("conn_1"))
        }
    }

    /// Who may do what: each (command, caller) pair is allowed or forbidden as the rules say.
    @Test func roles() {
        let commands: [ConnectionCommand] = [.reconnect(Self.sealed(fingerprint: "fp:9")), .rename("New"),
                                             .expire(reason: "r"), .revoke(reason: "r"), .delete, .attach(flowId: "f"),
                                             .detach(flowId: "f")]
        let allowed: [ConnectionCommand.Kind: Set<String>] = [
            .reconnect: ["admin"], .rename: ["admin"], .revoke: ["admin"], .delete: ["admin"],
            .expire: ["system", "engine"], .attach: ["admin", "member", "engine"], .detach: ["admin", "member", "engine"],
        ]
        let callers: [(String, Caller)] = [("admin", Self.admin), ("member", Self.member), ("system", .system), ("engine", .engine)]
        for command in commands {
            for (name, caller) in callers {
                let error = refusal([Self.created, .attachedToFlow(.init(flowId: "f"))], command, by: caller)
                if allowed[command.kind]!.contains(name) {
                    #expect(error == nil, "\(name) may \(command.kind)")
                } else if case .forbidden = error {
                } else {
                    Issue.record("\(name) must be forbidden to \(command.kind), got \(String(describing: error))")
                }
            }
            #expect(refusal([Self.created], command, by: Self.outsider) == .notFound("connection conn_1"),
                    "another project's connection is invisible")
        }
    }

    @Test func onlyMembersCreate() {
        let create = ConnectionCommand.create(.init(connectionId: "conn_1", projectId: "acme", piece: "gmail", name: "G",
                                                   credentials: Self.sealed()))
        #expect(refusal([], create, by: Self.outsider) == .notFound("project"))
        guard case .forbidden = refusal([], create, by: .engine) else { Issue.record("engine created"); return }
        #expect(refusal([Self.created], create, by: Self.admin) == .alreadyExists("connection conn_1"))
    }

    @Test func unknownConnectionsAreNotFound() {
        #expect(refusal([], .rename("x")) == .notFound("connection "))
    }
}
