import CSodium

/// Incremental keyed BLAKE2b (libsodium's `crypto_generichash`).
///
/// Used for the hash chain and for credential fingerprints; a key makes the
/// hashes unforgeable by someone who can edit the database but lacks the master key.
public struct KeyedHash: ~Copyable {
    private let state: UnsafeMutableRawPointer
    private let outputLength: Int

    /// Starts a hash keyed with `key` producing `outputLength` bytes (16...64).
    public init(key: [UInt8], outputLength: Int = 32) {
        self.outputLength = outputLength
        state = UnsafeMutableRawPointer.allocate(byteCount: crypto_generichash_statebytes(), alignment: 64)
        _ = key.withUnsafeBufferPointer { k in
            crypto_generichash_init(
                OpaquePointer(state),
                k.baseAddress, k.count, outputLength)
        }
    }

    /// Continues from where `prefix` is (its key and what it was fed), leaving it as it is:
    /// hashing many messages under one key pays for the key's block once.
    public init(continuing prefix: borrowing KeyedHash) {
        outputLength = prefix.outputLength
        state = UnsafeMutableRawPointer.allocate(byteCount: crypto_generichash_statebytes(), alignment: 64)
        state.copyMemory(from: prefix.state, byteCount: crypto_generichash_statebytes())
    }

    deinit {
        sodium_memzero(state, crypto_generichash_statebytes())
        state.deallocate()
    }

    /// Feeds raw bytes.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        _ = crypto_generichash_update(
            OpaquePointer(state),
            bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(bytes.count))
    }

    /// Feeds raw bytes.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Feeds a length-prefixed field, so that field boundaries cannot be shifted.
    public mutating func updateField(_ bytes: UnsafeRawBufferPointer) {
        var length = UInt64(bytes.count).bigEndian
        withUnsafeBytes(of: &length) { update($0) }
        update(bytes)
    }

    /// Feeds a length-prefixed UTF-8 string.
    public mutating func updateField(_ text: String) {
        var text = text
        text.withUTF8 { updateField(UnsafeRawBufferPointer($0)) }
    }

    /// Feeds a length-prefixed big-endian integer.
    public mutating func updateField(_ value: Int64) {
        var big = value.bigEndian
        withUnsafeBytes(of: &big) { updateField($0) }
    }

    /// Returns the digest.
    public consuming func finalize() -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: outputLength)
        _ = digest.withUnsafeMutableBufferPointer { out in
            crypto_generichash_final(
                OpaquePointer(state),
                out.baseAddress!, outputLength)
        }
        return digest
    }

    /// One-shot keyed hash of `message`.
    public static func digest(_ message: [UInt8], key: [UInt8], outputLength: Int = 32) -> [UInt8] {
        var hash = KeyedHash(key: key, outputLength: outputLength)
        hash.update(message)
        return hash.finalize()
    }
}
