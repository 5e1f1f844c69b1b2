import CredlogEvents
import Foundation

/// OAuth2 authorizations under way (RFC 6749 §4.1, RFC 7636): each `state` is random, bound to
/// the project, member, piece and intended connection, used once, and expires. One started from
/// the Connections page is also bound to the browser that started it (RFC 6749 §10.12): a
/// consent URL sent to someone else ends, in their browser, in "unknown state", not in their
/// account connected to the sender's project.
public struct OAuth2Authorizations: Sendable {
    let database: any SQLDatabase
    /// How long a person has to consent at the provider.
    public let lifetime: Duration

    public init(database: any SQLDatabase, lifetime: Duration = .seconds(600)) {
        self.database = database
        self.lifetime = lifetime
    }

    /// What a state stands for.
    public struct Pending: Sendable, Equatable {
        public var projectId: String
        public var memberId: String
        public var piece: String
        /// For a new connection: its name. For a reconnect: the connection's id.
        public var target: Target
        /// The PKCE verifier (`nil` when the piece does not use PKCE).
        public var codeVerifier: String?
        public var redirectURI: String
        /// A random value kept in a cookie of the browser that started it; `nil` for an API client.
        public var browserBinding: String? = nil

        public enum Target: Sendable, Equatable {
            case create(name: String)
            case reconnect(connectionId: String)
        }
    }

    /// Stores a new authorization; returns its state and when it expires.
    public func begin(_ pending: Pending, now: Timestamp) async throws -> (state: String, expiresAt: Timestamp) {
        let state = Sodium.randomText(32)
        let expiresAt = now + lifetime
        let (name, connectionId): (String?, String?) = switch pending.target {
        case .create(let newName): (newName, nil)
        case .reconnect(let id): (nil, id)
        }
        try await database.write { db in
            try db.execute(sql: "DELETE FROM oauth2_states WHERE expires_at < ?", arguments: [now.iso8601])
            try db.execute(sql: """
                INSERT INTO oauth2_states (state_hash, project_id, member_id, piece, connection_name, connection_id, code_verifier,
                                           redirect_uri, expires_at, browser_binding)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [Self.hash(state), pending.projectId, pending.memberId, pending.piece, name, connectionId,
                                 pending.codeVerifier.map { Data($0.utf8) }, pending.redirectURI, expiresAt.iso8601,
                                 pending.browserBinding.map(Self.hash)])
        }
        return (state, expiresAt)
    }

    /// Takes the authorization a state stands for, once: `nil` if unknown, used, expired, or
    /// bound to another browser than the one presenting `browserBinding`.
    public func consume(_ state: String, browserBinding: String?, now: Timestamp) async throws -> Pending? {
        guard state.utf8.count <= 128 else { return nil }
        return try await database.write { db in
            guard let row = try db.fetchOne(sql: "DELETE FROM oauth2_states WHERE state_hash = ? RETURNING *",
                                             arguments: [Self.hash(state)]) else { return nil }
            guard let expiresAt = Timestamp(iso8601: try row["expires_at"]), now < expiresAt else { return nil }
            if let bound = try row["browser_binding"] as Data? {
                guard let browserBinding, browserBinding.utf8.count <= 128,
                      Sodium.constantTimeEqual([UInt8](Self.hash(browserBinding)), [UInt8](bound)) else { return nil }
            }
            let name: String? = try row["connection_name"]
            let connectionId: String? = try row["connection_id"]
            return Pending(projectId: try row["project_id"], memberId: try row["member_id"], piece: try row["piece"],
                           target: connectionId.map { .reconnect(connectionId: $0) } ?? .create(name: name ?? ""),
                           codeVerifier: (try row["code_verifier"] as Data?).map { String(decoding: $0, as: UTF8.self) }, redirectURI: try row["redirect_uri"])
        }
    }

    /// A new PKCE verifier and its S256 challenge (RFC 7636 §4.1, §4.2).
    public static func pkcePair() -> (verifier: String, challenge: String) {
        let verifier = Data(Sodium.randomBytes(32)).base64URLEncoded
        return (verifier, Data(Sodium.sha256(Array(verifier.utf8))).base64URLEncoded)
    }

    static func hash(_ state: String) -> Data {
        Data(KeyedHash.digest(Array(state.utf8), key: Array("credlog oauth2 state v1".utf8), outputLength: 32))
    }
}

extension Data {
    /// Base64url without padding (RFC 4648 §5).
    var base64URLEncoded: String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
