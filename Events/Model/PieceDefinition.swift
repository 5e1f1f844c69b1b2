/// What credlog knows of a piece (a provider such as Gmail): how it authenticates, and for
/// OAuth2 where to send people and how to get and refresh tokens. The built-in catalogue is
/// a data file; an admin registers more (or their own OAuth2 client) in a project.
public struct PieceDefinition: Sendable, Equatable, Codable {
    /// The piece id, lower-case: `gmail`, `openai`.
    public var id: String
    public var displayName: String
    public var authType: AuthType
    /// The credential fields of a `custom` piece, in the order a form shows them.
    public var fields: [String]?
    public var oauth2: OAuth2Settings?
    /// A request that tells whether a credential works, run before it is accepted.
    public var validation: ValidationRequest?

    /// An OAuth2 piece whose client is registered: credlog can run its consent flow and refresh its tokens.
    public var hasOAuth2Client: Bool { oauth2?.clientId != nil }

    public init(id: String, displayName: String, authType: AuthType, fields: [String]? = nil,
                oauth2: OAuth2Settings? = nil, validation: ValidationRequest? = nil) {
        self.id = id
        self.displayName = displayName
        self.authType = authType
        self.fields = fields
        self.oauth2 = oauth2
        self.validation = validation
    }
}

/// A piece's OAuth2 client (RFC 6749). The client secret is not here: a registration keeps it sealed.
public struct OAuth2Settings: Sendable, Equatable, Codable {
    public var authorizeUrl: String
    public var tokenUrl: String
    public var scopes: [String]
    /// The client id at the provider; `nil` until an admin registers the project's client.
    public var clientId: String?
    /// Whether the authorization request carries a PKCE S256 challenge (RFC 7636).
    public var pkce: Bool
    /// How the client authenticates at the token URL.
    public var clientAuthentication: ClientAuthentication

    public enum ClientAuthentication: String, Sendable, Codable {
        /// `client_id` and `client_secret` in the form body.
        case body
        /// HTTP Basic with the client id and secret (`client_secret_basic`).
        case basic
    }

    public init(authorizeUrl: String, tokenUrl: String, scopes: [String], clientId: String?, pkce: Bool,
                clientAuthentication: ClientAuthentication) {
        self.authorizeUrl = authorizeUrl
        self.tokenUrl = tokenUrl
        self.scopes = scopes
        self.clientId = clientId
        self.pkce = pkce
        self.clientAuthentication = clientAuthentication
    }
}

/// An HTTP request that tells whether a credential works: the credential goes where `credential`
/// says, and the statuses in `validStatuses` mean valid (anything else: refused). It runs on a
/// recheck, and on create and reconnect unless `onConnect` is `false`.
public struct ValidationRequest: Sendable, Equatable, Codable {
    public var method: String
    public var url: String
    public var credential: Placement
    public var validStatuses: [Int]
    /// A boolean member of the JSON answer that must also be `true` (Slack answers `200` with
    /// `{"ok": false, "error": "invalid_auth"}`); `nil`: the status alone decides.
    public var requireTrue: String?
    /// Whether create and reconnect run it (absent: they do). `false` keeps it for rechecks:
    /// saving a credential does not wait on (or fail with) the provider.
    public var onConnect: Bool?

    /// Where the credential goes. `value` is a template: `{apiKey}` stands for that field.
    public struct Placement: Sendable, Equatable, Codable {
        public enum Location: String, Sendable, Codable { case header, query, basic }
        /// `header` (a header named `name`), `query` (a query parameter named `name`), or
        /// `basic` (an `Authorization: Basic` header from the `username` and `password` fields).
        public var location: Location
        public var name: String?
        public var value: String?

        enum CodingKeys: String, CodingKey {
            case location = "in", name, value
        }

        public init(location: Location, name: String?, value: String?) {
            self.location = location
            self.name = name
            self.value = value
        }
    }

    public init(method: String, url: String, credential: Placement, validStatuses: [Int], requireTrue: String? = nil,
                onConnect: Bool? = nil) {
        self.method = method
        self.url = url
        self.credential = credential
        self.validStatuses = validStatuses
        self.requireTrue = requireTrue
        self.onConnect = onConnect
    }

    /// Whether create and reconnect run it.
    public var runsOnConnect: Bool { onConnect ?? true }
}
