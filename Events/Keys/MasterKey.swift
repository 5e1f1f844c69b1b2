import Foundation

/// The key that wraps every other key of a database. It never enters the database.
///
/// It comes from `CREDLOG_MASTER_KEY` (base64 of 32 bytes) or from a key file
/// holding the same, readable by its owner only.
public struct MasterKey: Sendable {
    let bytes: [UInt8]
    /// A public name for this key (keyed hash of a constant), stored beside what it wraps.
    public let id: String

    init(bytes: [UInt8]) {
        self.bytes = bytes
        id = "mk-" + KeyedHash.digest(Array("credlog master key id".utf8), key: bytes, outputLength: 16).hex.prefix(16)
    }

    /// A new random key.
    public static func generate() -> MasterKey { MasterKey(bytes: Sodium.randomBytes(Sodium.keyBytes)) }

    /// Parses base64 of exactly 32 bytes; the error never repeats the input.
    public init(base64 text: String, origin: String) throws {
        guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw KeyError.malformedMasterKey(origin: origin, reason: "it is not valid base64")
        }
        guard data.count == Sodium.keyBytes else {
            throw KeyError.malformedMasterKey(origin: origin, reason: "it decodes to \(data.count) bytes, not \(Sodium.keyBytes)")
        }
        self.init(bytes: [UInt8](data))
    }

    /// The key as base64, for writing a key file.
    public var base64: String { Data(bytes).base64EncodedString() }

    /// Loads the key from `CREDLOG_MASTER_KEY` if set, else from `keyFile`.
    public static func load(environment: [String: String], keyFile: String) throws -> MasterKey {
        if let value = environment["CREDLOG_MASTER_KEY"], !value.isEmpty {
            return try MasterKey(base64: value, origin: "CREDLOG_MASTER_KEY")
        }
        return try KeyFile.read(keyFile)
    }
}

/// Reads and writes key files: base64 on one line, mode 0600.
public enum KeyFile {
    /// Reads a key file, refusing one that others may read. A symbolic link is followed: the
    /// mode checked is the file's own, read from the opened file (so it is the file that is read).
    public static func read(_ path: String) throws -> MasterKey {
        let fd = Foundation.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw KeyError.missingMasterKey(keyFile: path) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { throw KeyError.missingMasterKey(keyFile: path) }
        let mode = Int(info.st_mode & 0o777)
        guard mode & 0o077 == 0 else {
            throw KeyError.keyFileTooOpen(path: path, mode: String(mode, radix: 8))
        }
        var bytes = [UInt8](repeating: 0, count: maxFileBytes + 1)
        defer { Sodium.wipe(&bytes) }
        let count = bytes.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
        guard count >= 0, count <= maxFileBytes else {
            throw KeyError.malformedMasterKey(origin: "key file \(path)", reason: "it is larger than \(maxFileBytes) bytes")
        }
        return try MasterKey(base64: String(decoding: bytes[..<count], as: UTF8.self), origin: "key file \(path)")
    }

    /// A key file holds one line of base64: far less than this.
    static let maxFileBytes = 1024

    /// Writes a new key file with mode 0600; refuses to overwrite one unless `replace`.
    public static func write(_ key: MasterKey, to path: String, replace: Bool = false) throws {
        let flags = O_WRONLY | O_CREAT | O_TRUNC | (replace ? 0 : O_EXCL)
        let fd = Foundation.open(path, flags, 0o600)
        guard fd >= 0 else {
            throw KeyError.cannotWriteKeyFile(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        fchmod(fd, 0o600)
        let line = Array((key.base64 + "\n").utf8)
        let written = line.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        guard written == line.count, fsync(fd) == 0 else {
            throw KeyError.cannotWriteKeyFile(path: path, reason: String(cString: strerror(errno)))
        }
    }
}

/// Why keys could not be loaded, unwrapped or used. Messages never contain key material.
public enum KeyError: Error, Equatable, CustomStringConvertible {
    case missingMasterKey(keyFile: String)
    case malformedMasterKey(origin: String, reason: String)
    case keyFileTooOpen(path: String, mode: String)
    case cannotWriteKeyFile(path: String, reason: String)
    case wrongMasterKey(expected: String, given: String)
    case keyringDamaged(name: String)
    case alreadyInitialised(path: String)
    /// The connection's data key is gone: it was deleted (crypto-shredded).
    case dataKeyShredded(connectionId: String)
    /// The ciphertext does not open under its connection's data key and binding.
    case cannotOpen(connectionId: String, streamVersion: Int64)

    public var description: String {
        switch self {
        case let .missingMasterKey(keyFile):
            "no master key: set CREDLOG_MASTER_KEY (base64 of 32 bytes) or create \(keyFile) with `credlog init`"
        case let .malformedMasterKey(origin, reason):
            "the master key from \(origin) is unusable: \(reason)"
        case let .keyFileTooOpen(path, mode):
            "key file \(path) has mode \(mode): others may read it; run `chmod 600 \(path)`"
        case let .cannotWriteKeyFile(path, reason):
            "cannot write key file \(path): \(reason)"
        case let .wrongMasterKey(expected, given):
            "wrong master key: this database is sealed with \(expected), the key given is \(given)"
        case let .keyringDamaged(name):
            "the keyring entry '\(name)' does not open with the master key: the database or key was altered"
        case let .alreadyInitialised(path):
            "\(path) is already initialised"
        case let .dataKeyShredded(connectionId):
            "the credentials of \(connectionId) were destroyed when it was deleted"
        case let .cannotOpen(connectionId, streamVersion):
            "the credentials of \(connectionId) at version \(streamVersion) do not open: the ciphertext or its binding was altered"
        }
    }
}
