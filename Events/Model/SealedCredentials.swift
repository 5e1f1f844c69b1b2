/// A credential as it is kept in the log: sealed, never in plaintext.
///
/// The ciphertext is bound (as AEAD associated data) to its connection and the
/// stream version of the event that carries it, so it opens nowhere else.
public struct SealedCredentials: Sendable, Equatable, Codable {
    /// The auth type whose field rules the plaintext passed before sealing.
    public var authType: AuthType
    /// Identifies the connection's data key that sealed this ciphertext.
    public var keyId: String
    /// Base64 of `nonce || ciphertext || tag` (XChaCha20-Poly1305).
    public var box: String
    /// Keyed BLAKE2b of the canonical plaintext: equal fingerprints mean the same secret.
    public var fingerprint: String
    /// When the credential stops working, where it is known (OAuth2 `expiresAt`, an API key's expiry date).
    public var expiresAt: String?
    /// Whether credlog can renew it without a person: an OAuth2 credential with a refresh token.
    /// (Absent from events written before refreshes existed: read as `false`.)
    public var refreshable: Bool?
    /// When the provider issued it, where credlog obtained it itself (a token refresh): with
    /// `expiresAt` it gives the token's lifetime. Absent for credentials people supplied.
    public var issuedAt: String?

    public init(authType: AuthType, keyId: String, box: String, fingerprint: String, expiresAt: String?,
                refreshable: Bool? = nil, issuedAt: String? = nil) {
        self.authType = authType
        self.keyId = keyId
        self.box = box
        self.fingerprint = fingerprint
        self.expiresAt = expiresAt
        self.refreshable = refreshable
        self.issuedAt = issuedAt
    }
}
