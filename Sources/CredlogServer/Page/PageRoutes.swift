import CredlogDomain
import CredlogEvents
import CredlogLifecycle
import CredlogProjections
import Foundation
import Hummingbird

/// The Connections page (Settings > Project > Connections), a connection's own page and the
/// flows page: server-rendered HTML, forms that post back, and a little JavaScript for the modals.
struct PageRoutes {
    let environment: ServerEnvironment
    let renderer: PageRenderer

    func register(on router: Router<CredlogRequestContext>) {
        router.get("assets/:file", use: asset)
        router.get("login", use: loginForm)
        router.post("login", use: login)
        let pages = router.group().add(middleware: SessionAuthentication(environment: environment))
        pages.get("/") { _, _ in Response(status: .seeOther, headers: [.location: "/connections"]) }
        pages.get("connections", use: connections)
        pages.get("connections/:id", use: connection)
        pages.post("connections/:id/rename", use: rename)
        pages.post("connections/:id/reconnect", use: reconnect)
        pages.post("connections/:id/check", use: check)
        pages.post("connections/new", use: create)
        pages.post("connections/oauth2", use: startOAuth2)
        pages.get("flows", use: flows)
        pages.post("logout", use: logout)
    }

    // MARK: Signing in and out

    @Sendable func loginForm(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        renderer.response("login", MessagePage(title: "Sign in", message: ""))
    }

    /// Signs in with a member token: opens a session and sets its cookie.
    @Sendable func login(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        let limiter = environment.limiter
        let client = "address:" + context.clientAddress
        if let wait = await limiter.wait(client, rule: limiter.signIns) {
            var response = renderer.response("login", MessagePage(
                title: "Sign in", message: "Too many failed sign-ins from here; try again in \(Int(wait.components.seconds) + 1) s."),
                status: .tooManyRequests)
            response.headers[.retryAfter] = String(Int(wait.components.seconds) + 1)
            return response
        }
        let form = try await FormData(request, context: context)
        let presented = form.nonEmpty("token")?.trimmingCharacters(in: .whitespaces) ?? ""
        let identity: Identity
        switch try await environment.authenticate(presenting: presented) {
        case .valid(let token): identity = Identity(token: token)
        case .invalid:
            await limiter.refused(client, rule: limiter.signIns)
            return renderer.response("login", MessagePage(title: "Sign in", message: "That token is not valid."), status: .unauthorized)
        case .expired(let at):
            return renderer.response("login", MessagePage(title: "Sign in", message: "That token expired at \(at); ask an admin for a new one."),
                                     status: .unauthorized)
        case .revoked:
            return renderer.response("login", MessagePage(title: "Sign in", message: "That token was revoked."), status: .unauthorized)
        }
        guard identity.token.kind == .member else {
            return renderer.response("login", MessagePage(title: "Sign in", message: "Engine tokens cannot sign in; use a member's token."),
                                     status: .forbidden)
        }
        let cookie = try await environment.sessions.open(identity, now: environment.clock())
        var response = Response(status: .seeOther, headers: [.location: "/connections"])
        response.setCookie(SessionCookie.set(cookie, maxAge: environment.sessions.policy.lifetime, secure: environment.secureCookies))
        return response
    }

    @Sendable func logout(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        let session = try await checkedForm(request, context).session
        try await environment.sessions.close(session)
        var response = Response(status: .seeOther, headers: [.location: "/login"])
        response.setCookie(SessionCookie.clear(secure: environment.secureCookies))
        return response
    }

    // MARK: Pages

    /// The connections table: `?status=active|inactive|expiring|all`, `?piece=` (one of the project's
    /// pieces; any other value lists every piece), `?search=`, `?after=` (next page).
    @Sendable func connections(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        try await rendering(context) { layout, session in
            let query = request.uri.queryParameters
            let status = ConnectionList.StatusFilter(rawValue: query.get("status") ?? "") ?? .all
            let search = query.get("search") ?? ""
            let project = try await environment.service.loadProject(layout.projectId).state
            let pieces = environment.service.pieces.pieces(in: project)
            let byId = Dictionary(pieces.map { ($0.id, $0) }) { first, _ in first }
            let piece = query.get("piece").flatMap { byId[$0] == nil ? nil : $0 }
            let now = environment.clock()
            let list = ConnectionList(projectId: layout.projectId, status: status, search: search.isEmpty ? nil : search,
                                      pieces: piece.map { [$0] } ?? [], limit: 50, after: query.get("after"), now: now)
            let page = try await environment.queries.connections(list, for: layout.reader)
            var flash = session.flash
            try await environment.sessions.clearFlash(session)
            if flash == nil, query.get("authorized") != nil { flash = Flash(message: "Authorized at the provider; the connection is active.", isError: false) }
            var returnTo = "/connections?status=\(status.rawValue)"
            if let piece { returnTo += "&piece=" + FormEncoding.escaped(piece) }
            if !search.isEmpty { returnTo += "&search=" + FormEncoding.escaped(search) }
            return renderer.response("connections", ConnectionsPage(
                layout: layout, rows: page.connections.map { ConnectionsPage.Row($0, piece: byId[$0.piece], now: now) },
                pieces: pieces.map { ConnectionsPage.PieceChoice(id: $0.id, name: $0.displayName, authType: $0.authType.rawValue,
                                                                 oauth2: $0.hasOAuth2Client) },
                statusChoices: [("active", "Active"), ("expiring", "Expiring"), ("inactive", "Inactive"), ("all", "All")].map {
                    .init(value: $0.0, label: $0.1, selected: $0.0 == status.rawValue)
                },
                providerChoices: [.init(value: "", label: "All providers", selected: piece == nil)]
                    + pieces.sorted { $0.displayName.lowercased() < $1.displayName.lowercased() }.map {
                        .init(value: $0.id, label: $0.displayName, selected: $0.id == piece)
                    },
                search: search, returnTo: returnTo,
                nextPage: page.nextCursor.map { returnTo + "&after=" + FormEncoding.escaped($0) },
                notice: flash.flatMap { $0.isError ? nil : $0.message }, error: flash.flatMap { $0.isError ? $0.message : nil },
                isEmpty: page.connections.isEmpty))
        }
    }

    /// The most rows of a connection page's status history and audit trail; links lead on.
    static let rowsPerTable = 100

    /// A connection's own page: its state (now, or `?at=` a chosen time), its status history
    /// (oldest first) and its audit trail (newest first), each a page of ``rowsPerTable`` rows.
    @Sendable func connection(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        try await rendering(context) { layout, _ in
            let id = try context.parameters.require("id")
            let atText = request.uri.queryParameters.get("at") ?? ""
            var point: PointInTime?
            if !atText.isEmpty {
                guard let time = Timestamp(formInput: atText) else {
                    throw Problem.badRequest("'\(atText)' is not a time; use the picker or 2026-11-21T10:05:00Z")
                }
                point = .time(time)
            }
            let query = request.uri.queryParameters
            let detail = try await environment.queries.connection(id, at: point, for: layout.reader)
            let history = try await environment.queries.statusHistory(of: id, limit: Self.rowsPerTable, after: query.get("historyAfter"),
                                                                      for: layout.reader)
            let audit = try await environment.queries.audit(AuditQuery(projectId: layout.projectId, connectionId: id, limit: Self.rowsPerTable,
                                                                       after: query.get("auditAfter"), newestFirst: true), for: layout.reader)
            let here = "/connections/" + FormEncoding.escaped(id) + (atText.isEmpty ? "?" : "?at=" + FormEncoding.escaped(atText) + "&")
            return renderer.response("connection", ConnectionPage(
                layout: layout, connection: detail, times: .init(detail), isActive: detail.status == StatusName.active.title,
                at: atText, isPast: point != nil, history: history.changes.map { Timed(item: $0, at: PageTime($0.at)) },
                laterHistory: history.nextCursor.map { here + "historyAfter=" + FormEncoding.escaped($0) },
                audit: audit.entries.map { Timed(item: $0, at: PageTime($0.at)) },
                olderAudit: audit.nextCursor.map { here + "auditAfter=" + FormEncoding.escaped($0) }))
        }
    }

    /// The flows using a connection now (`?connection=`), linked from the Flows column.
    @Sendable func flows(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        try await rendering(context) { layout, _ in
            guard let id = request.uri.queryParameters.get("connection") else {
                throw Problem.badRequest("choose a connection's flow count on the Connections page")
            }
            let detail = try await environment.queries.connection(id, for: layout.reader)
            let after = request.uri.queryParameters.get("after").flatMap { $0.utf8.count <= 200 ? $0 : nil }
            let uses = try await environment.queries.flows(usingConnection: id, after: after, limit: Self.rowsPerTable + 1, for: layout.reader)
            let shown = Array(uses.prefix(Self.rowsPerTable))
            return renderer.response("flows", FlowsPage(layout: layout,
                                                        connectionId: id, connectionName: detail.name,
                                                        flows: shown.map { Timed(item: $0, at: PageTime($0.attachedAt)) },
                                                        isEmpty: shown.isEmpty,
                                                        nextPage: uses.count > shown.count ? shown.last.map {
                                                            "/flows?connection=" + FormEncoding.escaped(id) + "&after=" + FormEncoding.escaped($0.flowId)
                                                        } : nil))
        }
    }

    // MARK: Actions

    @Sendable func rename(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        let (form, session) = try await checkedForm(request, context)
        let id = try context.parameters.require("id")
        return try await acting(form, session, context) { command in
            let outcome = try await environment.service.rename(id, to: form["name"] ?? "", context: command)
            return outcome.changedNothing ? "The name did not change." : "Renamed to \(form["name"] ?? "")."
        }
    }

    @Sendable func reconnect(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        let (form, session) = try await checkedForm(request, context)
        let id = try context.parameters.require("id")
        return try await acting(form, session, context) { command in
            guard let authType = try await environment.service.loadConnection(id).state.connection?.authType else {
                throw DomainError.notFound("connection \(id)")
            }
            var secret = try CredentialForm.credentials(from: form, authType: authType)
            _ = try await environment.service.reconnect(id, credentials: &secret, context: command)
            return "Reconnected; the connection is active."
        }
    }

    /// Recheck: asks the provider whether the credential still works; the answer is the flash message.
    @Sendable func check(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        let (form, session) = try await checkedForm(request, context)
        let id = try context.parameters.require("id")
        return try await acting(form, session, context) { command in
            let done = try await environment.lifecycle.checker.check(id, context: command)
            guard done.passed else { throw Problem(.unprocessableContent, done.sentence + (done.active ? "." : "; the connection is now Inactive.")) }
            return done.sentence + "."
        }
    }

    /// Creates a connection from the New connection form (API key, basic, custom, or OAuth2 tokens typed in).
    @Sendable func create(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        let (form, session) = try await checkedForm(request, context)
        return try await acting(form, session, context) { command in
            let piece = form["piece"] ?? ""
            let project = try await environment.service.loadProject(session.identity.projectId).state
            guard let authType = environment.service.pieces.piece(piece, in: project)?.authType ?? form["authType"].flatMap(AuthType.init) else {
                throw DomainError.invalid("choose a piece")
            }
            var secret = try CredentialForm.credentials(from: form, authType: authType)
            _ = try await environment.service.createConnection(projectId: session.identity.projectId, piece: piece, authType: authType,
                                                               name: form["name"] ?? "", credentials: &secret, context: command)
            return "Created \(form["name"] ?? "")."
        }
    }

    /// Starts the OAuth2 flow for the popup: answers the provider's consent URL as JSON (or a
    /// problem, whose `detail` the page shows).
    @Sendable func startOAuth2(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        let (form, session) = try await checkedForm(request, context)
        guard case .member(let memberId) = session.identity.principal else { throw Problem.unauthorized }
        try await refuseIfReadOnly(session, context)
        // One binding per browser, kept while its authorizations live (several may be under way).
        let presented = request.cookies[OAuth2BindingCookie.name]?.value ?? ""
        let binding = presented.utf8.count == 64 && presented.allSatisfy(\.isHexDigit) ? presented : Sodium.randomBytes(32).hex
        let started = try await environment.lifecycle.oauth2.start(
            .init(projectId: session.identity.projectId, memberId: memberId, piece: form.nonEmpty("piece"), name: form["name"],
                  connectionId: form.nonEmpty("connectionId")),
            now: environment.clock(), browserBinding: binding)
        var response = try JSONCoding.response(started)
        response.setCookie(OAuth2BindingCookie.set(binding, secure: environment.secureCookies))
        return response
    }

    // MARK: Plumbing

    /// Reads a form and checks its CSRF token against the session's (403 when it does not match).
    private func checkedForm(_ request: Request, _ context: CredlogRequestContext) async throws -> (form: FormData, session: Session) {
        guard let session = context.session else { throw Problem.unauthorized }
        let form = try await FormData(request, context: context)
        guard let sent = form["csrf"], Sodium.constantTimeEqual(Array(sent.utf8), Array(session.csrfToken.utf8)) else {
            throw Problem(.forbidden, "the form is stale or came from elsewhere; reload the page")
        }
        return (form, session)
    }

    /// Runs a page action, keeps what it did (or why it was refused) for the next page, and
    /// goes back to the list the form came from.
    /// A session opened with a read-only token acts on nothing: the attempt is audited and refused.
    private func acting(_ form: FormData, _ session: Session, _ context: CredlogRequestContext,
                        _ body: (CommandContext) async throws -> String) async throws -> Response {
        let command = CommandContext(principal: session.identity.principal, now: environment.clock(),
                                     projectScope: session.identity.projectId, via: "http")
        do {
            try await refuseIfReadOnly(session, context)
            try await environment.sessions.flash(session, try await body(command))
        } catch {
            try await environment.sessions.flash(session, Problem.from(error).detail ?? "that did not work", isError: true)
        }
        let back = form["return"].flatMap { $0.hasPrefix("/connections") && !$0.hasPrefix("//") ? $0 : nil } ?? "/connections"
        return Response(status: .seeOther, headers: [.location: back])
    }

    /// Refuses (and audits) an action of a session opened with a read-only token.
    private func refuseIfReadOnly(_ session: Session, _ context: CredlogRequestContext) async throws {
        guard session.identity.token.scope == .read else { return }
        try await ReadOnlyScope.refuse(session.identity, action: "POST \(context.endpointPath ?? "(no route)")",
                                       environment: environment, correlationId: context.id)
    }

    /// Renders a page for the signed-in member, or an error page with the problem's status.
    private func rendering(_ context: CredlogRequestContext, _ body: (LayoutInfo, Session) async throws -> Response) async throws -> Response {
        guard let session = context.session else { throw Problem.unauthorized }
        let caller = try await environment.service.caller(session.identity.principal, in: session.identity.projectId)
        let identity = session.identity
        let layout = LayoutInfo(principal: identity.principal, memberId: identity.token.memberId ?? "", projectId: identity.projectId,
                                role: caller.roleName, isAdmin: identity.token.scope == .full && { if case .member(_, .admin) = caller { true } else { false } }(),
                                readOnly: identity.token.scope == .read, csrfToken: session.csrfToken)
        do {
            guard caller.actor != nil else { throw DomainError.notFound("project \(session.identity.projectId)") }
            return try await body(layout, session)
        } catch {
            let problem = Problem.from(error)
            return renderer.response("message", MessagePage(title: problem.title, message: problem.detail ?? problem.title,
                                                            layout: layout),
                                     status: .init(code: problem.status))
        }
    }

    @Sendable func asset(_ request: Request, context: CredlogRequestContext) async throws -> Response {
        guard let (data, type) = Assets.file("assets/" + (try context.parameters.require("file"))) else { throw HTTPError(.notFound) }
        return Response(status: .ok, headers: [.contentType: type, .cacheControl: "max-age=3600"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

extension Timestamp {
    /// A time from a form: ISO 8601, or a `datetime-local` value (`2026-11-21T10:05`, read as UTC).
    init?(formInput text: String) {
        if let time = Timestamp(iso8601: text) { self = time; return }
        if let time = Timestamp(iso8601: text + "Z") { self = time; return }
        if let time = Timestamp(iso8601: text + ":00Z") { self = time; return }
        return nil
    }
}
