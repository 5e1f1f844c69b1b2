import CSodium

/// Safe wrappers over the few libsodium primitives credlog uses.
///
/// Everything else in credlog goes through this file, so the unsafe pointer
/// work stays in one place.
public enum Sodium {
    /// Size of every symmetric key credlog uses (master, data and derived keys).
    public static let keyBytes = 32
    /// Size of an XChaCha20-Poly1305 nonce.
    public static let nonceBytes = Int(crypto_aead_xchacha20poly1305_ietf_npubbytes())
    /// Size of the Poly1305 authentication tag appended to each ciphertext.
    public static let tagBytes = Int(crypto_aead_xchacha20poly1305_ietf_abytes())

    private static let isReady: Bool = sodium_init() >= 0

    private static func ensureReady() {
        precondition(isReady, "libsodium could not be initialised")
    }

    /// Cryptographically secure random bytes.
    public static func randomBytes(_ count: Int) -> [UInt8] {
        ensureReady()
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { randombytes_buf($0.baseAddress!, $0.count) }
        return bytes
    }

    /// `count` random characters of a base-32 alphabet without look-alikes (`l`, `o`, `0`, `1`):
    /// 5 bits each, for ids and token secrets that people copy.
    public static func randomText(_ count: Int) -> String {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyz23456789")
        return String(randomBytes(count).map { alphabet[Int($0) & 31] })
    }

    /// Overwrites a buffer with zeros in a way the optimiser cannot remove.
    public static func wipe(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { sodium_memzero($0.baseAddress, $0.count) }
    }

    /// Constant-time comparison of two byte strings.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return a.withUnsafeBytes { pa in
            b.withUnsafeBytes { pb in sodium_memcmp(pa.baseAddress, pb.baseAddress, a.count) == 0 }
        }
    }

    /// Encrypts with XChaCha20-Poly1305 (IETF AEAD). Returns `nonce || ciphertext || tag`.
    public static func seal(_ plaintext: [UInt8], additionalData: [UInt8], key: [UInt8]) -> [UInt8] {
        ensureReady()
        precondition(key.count == keyBytes, "AEAD keys are 32 bytes")
        let nonce = randomBytes(nonceBytes)
        var ciphertext = [UInt8](repeating: 0, count: plaintext.count + tagBytes)
        var written: UInt64 = 0
        _ = ciphertext.withUnsafeMutableBufferPointer { out in
            crypto_aead_xchacha20poly1305_ietf_encrypt(
                out.baseAddress!, &written,
                plaintext, UInt64(plaintext.count),
                additionalData, UInt64(additionalData.count),
                nil, nonce, key)
        }
        return nonce + ciphertext
    }

    /// Opens `nonce || ciphertext || tag`; `nil` when the key, the data or the associated data do not match.
    public static func open(_ box: [UInt8], additionalData: [UInt8], key: [UInt8]) -> [UInt8]? {
        ensureReady()
        guard key.count == keyBytes, box.count >= nonceBytes + tagBytes else { return nil }
        let nonce = Array(box[..<nonceBytes])
        let ciphertext = Array(box[nonceBytes...])
        var plaintext = [UInt8](repeating: 0, count: ciphertext.count - tagBytes)
        var written: UInt64 = 0
        let status = plaintext.withUnsafeMutableBufferPointer { out in
            crypto_aead_xchacha20poly1305_ietf_decrypt(
                out.baseAddress!, &written, nil,
                ciphertext, UInt64(ciphertext.count),
                additionalData, UInt64(additionalData.count),
                nonce, key)
        }
        guard status == 0 else { return nil }
        return plaintext
    }

    /// Derives an independent subkey from a root key (BLAKE2b based KDF).
    /// - Parameters:
    ///   - context: exactly 8 ASCII characters naming the purpose.
    public static func deriveKey(from root: [UInt8], id: UInt64, context: StaticString) -> [UInt8] {
        ensureReady()
        precondition(context.utf8CodeUnitCount == 8, "KDF contexts are 8 characters")
        var subkey = [UInt8](repeating: 0, count: keyBytes)
        _ = subkey.withUnsafeMutableBufferPointer { out in
            context.withUTF8Buffer { ctx in
                ctx.withMemoryRebound(to: CChar.self) { ctxChars in
                    crypto_kdf_derive_from_key(out.baseAddress!, keyBytes, id, ctxChars.baseAddress!, root)
                }
            }
        }
        return subkey
    }

    /// SHA-256 of `bytes` (PKCE's S256 challenge).
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        ensureReady()
        var digest = [UInt8](repeating: 0, count: Int(crypto_hash_sha256_bytes()))
        crypto_hash_sha256(&digest, bytes, UInt64(bytes.count))
        return digest
    }

    /// HMAC-SHA256 of `message` under a key of any length (webhook signatures).
    public static func hmacSHA256(_ message: [UInt8], key: [UInt8]) -> [UInt8] {
        ensureReady()
        var state = crypto_auth_hmacsha256_state()
        var mac = [UInt8](repeating: 0, count: Int(crypto_auth_hmacsha256_bytes()))
        crypto_auth_hmacsha256_init(&state, key, key.count)
        crypto_auth_hmacsha256_update(&state, message, UInt64(message.count))
        crypto_auth_hmacsha256_final(&state, &mac)
        return mac
    }
}
