import CredlogEvents
import Foundation
import NIOHTTP1

/// Talks to a piece's token endpoint (RFC 6749 §4.1.3 and §6): exchanges a code, refreshes a
/// token. The client authenticates in the body or with HTTP Basic, as the piece says.
public struct OAuth2Client: Sendable {
    let http: OutboundHTTP

    public init(http: OutboundHTTP) { self.http = http }

    /// Why a token request failed.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// The grant (code or refresh token) is invalid, expired or revoked: only a person can fix it.
        case invalidGrant(String)
        /// Another refusal by the provider (a 4xx with an OAuth2 error): the client or request is wrong.
        case refused(status: Int, error: String)
        /// No usable answer: network error, timeout, 5xx. Worth retrying.
        case unavailable(String)
        /// An answer that is not a token response (no access token).
        case malformed(String)

        public var description: String {
            switch self {
            case .invalidGrant(let why): "the provider refused the grant (invalid_grant\(why.isEmpty ? "" : ": \(why)"))"
            case .refused(let status, let error): "the provider refused the token request (HTTP \(status): \(error))"
            case .unavailable(let why): "the provider could not be reached (\(why))"
            case .malformed(let why): "the provider's token response is unusable (\(why))"
            }
        }

        /// Whether trying again later may succeed.
        public var isTransient: Bool { if case .unavailable = self { true } else { false } }
    }

    /// The client as registered at the provider: its settings, id and secret.
    public struct Registration: Sendable {
        public var settings: OAuth2Settings
        public var clientId: String
        public var clientSecret: String?

        public init(settings: OAuth2Settings, clientId: String, clientSecret: String?) {
            self.settings = settings
            self.clientId = clientId
            self.clientSecret = clientSecret
        }
    }

    /// Exchanges an authorization code (with its PKCE verifier) for tokens.
    public func exchange(code: String, verifier: String?, redirectURI: String, client: Registration) async throws(Failure) -> TokenGrant {
        var form = TokenForm(grantType: "authorization_code")
        form.code = code
        form.redirectUri = redirectURI
        form.codeVerifier = verifier
        return try await request(form, client: client)
    }

    /// Trades a refresh token for a new access token (and perhaps a new refresh token).
    public func refresh(refreshToken: String, client: Registration) async throws(Failure) -> TokenGrant {
        var form = TokenForm(grantType: "refresh_token")
        form.refreshToken = refreshToken
        return try await request(form, client: client)
    }

    private func request(_ form: TokenForm, client: Registration) async throws(Failure) -> TokenGrant {
        var form = form
        var headers = [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")]
        switch client.settings.clientAuthentication {
        case .body:
            form.clientId = client.clientId
            form.clientSecret = client.clientSecret
        case .basic:
            // RFC 6749 §2.3.1: each part form-encoded, then Basic.
            let pair = "\(FormEncoding.escaped(client.clientId)):\(FormEncoding.escaped(client.clientSecret ?? ""))"
            headers.append(("Authorization", "Basic " + Data(pair.utf8).base64EncodedString()))
        }
        let response: OutboundHTTP.Response
        do {
            response = try await http.send(.POST, client.settings.tokenUrl, headers: headers, body: Array(form.encoded.utf8))
        } catch let error as OutboundHTTP.Unreachable {
            throw .unavailable(error.description)
        } catch let error as OutboundHTTP.RefusedDestination {
            throw .refused(status: 0, error: "the token URL was refused: \(error.description)")
        } catch {
            throw .unavailable("\(type(of: error))")
        }
        if response.status >= 500 { throw .unavailable("HTTP \(response.status)") }
        guard response.status == 200 else {
            let answer = try? JSONDecoder().decode(ErrorAnswer.self, from: Data(response.body))
            let error = answer?.error.flatMap { ProviderReason.sanitised($0) }
            let description = answer?.errorDescription.flatMap { ProviderReason.sanitised($0) }
            if error == "invalid_grant" { throw .invalidGrant(description ?? "") }
            let detail = [error, description].compactMap { $0 }.joined(separator: ": ")
            throw .refused(status: response.status, error: detail.isEmpty ? "no OAuth2 error" : detail)
        }
        do {
            let grant = try JSONDecoder().decode(TokenGrant.self, from: Data(response.body))
            guard !grant.accessToken.isEmpty else { throw Failure.malformed("the access token is empty") }
            return grant
        } catch let failure as Failure {
            throw failure
        } catch {
            throw .malformed("no access_token in it")
        }
    }

    /// The form of a token request (absent fields are left out).
    struct TokenForm {
        var grantType: String
        var code: String?
        var redirectUri: String?
        var codeVerifier: String?
        var refreshToken: String?
        var clientId: String?
        var clientSecret: String?

        /// The request body.
        var encoded: String {
            FormEncoding.encode([("grant_type", grantType), ("code", code), ("redirect_uri", redirectUri),
                                 ("code_verifier", codeVerifier), ("refresh_token", refreshToken), ("client_id", clientId),
                                 ("client_secret", clientSecret)])
        }
    }

    struct ErrorAnswer: Decodable {
        var error: String?
        var errorDescription: String?
        enum CodingKeys: String, CodingKey { case error, errorDescription = "error_description" }
    }

}
