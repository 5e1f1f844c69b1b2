import CredlogEvents
import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization

/// A real OAuth2 provider on loopback, written for the tests (RFC 6749, RFC 7636): it issues
/// codes, checks PKCE and the client's authentication, issues, rotates and revokes refresh
/// tokens, answers a validation request, and can be told to fail with 500 or to hang.
final class TestOAuthProvider: Sendable {
    static let clientId = "credlog-test-client"
    static let clientSecret = "test-client-secret-0d9f"
    static let validKey = "sk-valid-1234"

    enum Mode: Sendable {
        case normal, failing, hanging
        /// A 200 answer without an access token.
        case tokenless
    }

    struct State {
        var codes: [String: (redirectURI: String, challenge: String?)] = [:]
        var liveRefreshTokens: Set<String> = []
        var issued = 0
        var codeGrants = 0
        var refreshGrants = 0
        var mode = Mode.normal
        var accessTokenLifetime = 3600
        /// The raw JSON of `expires_in` in token answers, when a test makes the provider hostile.
        var expiresInJSON: String?
        /// Every request to `/validate-html` (which answers an HTML page the credential must not echo).
        var htmlValidations = 0
        /// When false, refresh answers carry no new refresh token (the old one stays valid).
        var rotates = true
        /// How the client must authenticate at the token endpoint.
        var clientAuthentication = "body"
        /// Every request to the token endpoint, answered or not.
        var tokenRequests = 0
        /// The access tokens issued so far: the stand-ins of catalogued providers accept these.
        var accessTokens: Set<String> = []
        /// Requests to the stand-ins, by path.
        var checks: [String] = []
    }

    let state = Mutex(State())

    var refreshGrants: Int { state.withLock { $0.refreshGrants } }
    var codeGrants: Int { state.withLock { $0.codeGrants } }
    var tokenRequests: Int { state.withLock { $0.tokenRequests } }
    func set(_ change: (inout State) -> Void) { state.withLock { change(&$0) } }
    /// Revokes every refresh token issued so far (the user removed the app's access).
    func revokeAll() { state.withLock { $0.liveRefreshTokens.removeAll() } }

    /// Runs the provider on a free loopback port for the duration of `body`.
    func serve(_ body: @Sendable (_ baseURL: String) async throws -> Void) async throws {
        let app = Application(router: router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            guard let port = client.port else { throw TestProviderError("no port") }
            try await body("http://127.0.0.1:\(port)")
        }
    }

    /// A piece definition pointing at this provider.
    static func piece(baseURL: String, id: String = "testmail", pkce: Bool = true, clientAuthentication: String = "body") -> String {
        #"""
        {"id": "\#(id)", "displayName": "Test Mail", "authType": "oauth2",
         "oauth2": {"authorizeUrl": "\#(baseURL)/authorize", "tokenUrl": "\#(baseURL)/token", "scopes": ["mail.send", "mail.read"],
                    "clientId": "\#(clientId)", "pkce": \#(pkce), "clientAuthentication": "\#(clientAuthentication)"}}
        """#
    }

    private func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("authorize") { request, _ -> Response in
            let query = request.uri.queryParameters
            guard query.get("client_id") == Self.clientId, query.get("response_type") == "code",
                  let redirect = query.get("redirect_uri"), let state = query.get("state") else {
                return Response(status: .badRequest)
            }
            let challenge = query.get("code_challenge")
            if challenge != nil, query.get("code_challenge_method") != "S256" { return Response(status: .badRequest) }
            let code = self.state.withLock { s -> String in
                s.issued += 1
                let code = "code-\(s.issued)"
                s.codes[code] = (redirect, challenge)
                return code
            }
            let location = redirect + "?code=\(code)&state=\(state.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
            return Response(status: .found, headers: [.location: location])
        }
        router.post("token") { request, context -> Response in
            let body = String(buffer: try await request.body.collect(upTo: 64 * 1024))
            let form = Self.parseForm(body)
            let mode = self.state.withLock { state -> Mode in
                state.tokenRequests += 1
                return state.mode
            }
            switch mode {
            case .failing: return Response(status: .internalServerError)
            case .hanging: try await Task.sleep(for: .seconds(2))
            case .tokenless:
                return Response(status: .ok, headers: [.contentType: "application/json"],
                                body: .init(byteBuffer: ByteBuffer(string: #"{"token_type":"Bearer","expires_in":3600}"#)))
            case .normal: break
            }
            guard self.clientAuthenticated(request, form) else { return Self.error(401, "invalid_client") }
            switch form["grant_type"] {
            case "authorization_code":
                guard let code = form["code"], let issued = self.state.withLock({ $0.codes.removeValue(forKey: code) }),
                      issued.redirectURI == form["redirect_uri"] else { return Self.error(400, "invalid_grant", "unknown code") }
                if let challenge = issued.challenge {
                    guard let verifier = form["code_verifier"],
                          Data(Sodium.sha256(Array(verifier.utf8))).base64URL == challenge else {
                        return Self.error(400, "invalid_grant", "PKCE verification failed")
                    }
                }
                return self.issueTokens(grant: "code", keeping: nil)
            case "refresh_token":
                guard let token = form["refresh_token"], self.state.withLock({ $0.liveRefreshTokens.contains(token) }) else {
                    return Self.error(400, "invalid_grant", "Token has been expired or revoked.")
                }
                return self.issueTokens(grant: "refresh", keeping: token)
            default:
                return Self.error(400, "unsupported_grant_type")
            }
        }
        // Stand-ins of the catalogued pieces' validation requests, under /PIECE/ + the real path,
        // answering as each provider does (a valid credential: an issued token or `validKey`).
        for (method, path) in [(HTTPRequest.Method.get, "gmail/v1/userinfo"), (.get, "google-sheets/v1/userinfo"),
                               (.post, "slack/api/auth.test"), (.get, "github/user"), (.get, "hubspot/account-info/v3/details")] {
            router.on(RouterPath(path), method: method) { request, _ -> Response in
                let presented = String((request.headers[.authorization] ?? "").dropFirst("Bearer ".count))
                let valid = self.state.withLock { state -> Bool in
                    state.checks.append(path)
                    return presented == Self.validKey || state.accessTokens.contains(presented)
                }
                func json(_ status: Int, _ body: String) -> Response {
                    Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
                }
                switch path {
                case "slack/api/auth.test":  // Slack answers 200 either way
                    return valid ? json(200, #"{"ok":true,"team":"T1"}"#) : json(200, #"{"ok":false,"error":"invalid_auth"}"#)
                case "github/user":
                    guard request.headers[.userAgent] != nil else { return json(403, #"{"message":"Request forbidden by administrative rules"}"#) }
                    // GitHub's message echoes nothing, but a hostile stand-in does: it must be blanked.
                    return valid ? json(200, #"{"login":"octo"}"#) : json(401, #"{"message":"Bad credentials: \#(presented)"}"#)
                case "hubspot/account-info/v3/details":
                    return valid ? json(200, #"{"portalId":1}"#)
                        : json(401, #"{"status":"error","message":"Authentication credentials not found"}"#)
                default:
                    return valid ? json(200, #"{"sub":"1","email":"a@example.com"}"#)
                        : json(401, #"{"error":"invalid_token","error_description":"Invalid Credentials"}"#)
                }
            }
        }
        router.get("validate-html") { _, _ -> Response in
            self.state.withLock { $0.htmlValidations += 1 }
            return Response(status: .forbidden, headers: [.contentType: "text/html"],
                            body: .init(byteBuffer: ByteBuffer(string: "<html><body><script>SENTINEL-PROVIDER-BODY</script></body></html>")))
        }
        router.get("validate") { request, _ -> Response in
            if request.headers[.authorization] == "Bearer \(Self.validKey)" { return Response(status: .ok) }
            let presented = request.headers[.authorization] ?? "none"
            return Response(status: .unauthorized, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: #"{"error":"invalid api key: \#(presented)"}"#)))
        }
        return router
    }

    private func issueTokens(grant: String, keeping old: String?) -> Response {
        let answer = state.withLock { s -> String in
            s.issued += 1
            if grant == "code" { s.codeGrants += 1 } else { s.refreshGrants += 1 }
            let access = "at-\(s.issued)"
            s.accessTokens.insert(access)
            var refresh: String?
            if old == nil || s.rotates {
                refresh = "rt-\(s.issued)"
                s.liveRefreshTokens.insert(refresh!)
                if let old { s.liveRefreshTokens.remove(old) }
            }
            let refreshField = refresh.map { #","refresh_token":"\#($0)""# } ?? ""
            return #"{"access_token":"\#(access)","token_type":"Bearer","expires_in":\#(s.expiresInJSON ?? String(s.accessTokenLifetime)),"scope":"mail.send mail.read"\#(refreshField)}"#
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: answer)))
    }

    private func clientAuthenticated(_ request: Request, _ form: [String: String]) -> Bool {
        switch state.withLock({ $0.clientAuthentication }) {
        case "basic":
            let expected = "Basic " + Data("\(Self.clientId):\(Self.clientSecret)".utf8).base64EncodedString()
            return request.headers[.authorization] == expected && form["client_secret"] == nil
        default:
            return form["client_id"] == Self.clientId && form["client_secret"] == Self.clientSecret
        }
    }

    static func error(_ status: Int, _ code: String, _ description: String? = nil) -> Response {
        let json = #"{"error":"\#(code)"\#(description.map { #","error_description":"\#($0)""# } ?? "")}"#
        return Response(status: .init(code: status), headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(string: json)))
    }

    static func parseForm(_ body: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            if parts.count == 2 { fields[parts[0]] = parts[1] }
        }
        return fields
    }
}

struct TestProviderError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension Data {
    var base64URL: String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
