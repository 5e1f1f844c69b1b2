import Foundation

extension UUID {
    /// A random (version 4) UUID from libsodium's generator (one `getrandom` call). Foundation's
    /// `UUID()` on Linux opens and reads `/dev/urandom` for each one, three file operations per
    /// id, and a command makes three ids.
    public static func random() -> UUID {
        var bytes = Sodium.randomBytes(16)
        bytes[6] = bytes[6] & 0x0F | 0x40  // version 4
        bytes[8] = bytes[8] & 0x3F | 0x80  // RFC 4122 variant
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                           bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }
}
