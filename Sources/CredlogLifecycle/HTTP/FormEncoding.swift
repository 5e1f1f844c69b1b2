/// Form bodies (`application/x-www-form-urlencoded`) and query strings, written once: every byte
/// of a name or value outside RFC 3986's unreserved set (ASCII letters and digits, `-._~`) is
/// percent-encoded, its UTF-8 bytes one by one.
public enum FormEncoding {
    /// `text` percent-encoded as a form or query name or value.
    public static func escaped(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if isUnreserved(byte) {
                escaped.unicodeScalars.append(UnicodeScalar(byte))
            } else {
                escaped += "%" + String(hexDigits[Int(byte >> 4)]) + String(hexDigits[Int(byte & 0x0F)])
            }
        }
        return escaped
    }

    /// `name=value` pairs joined by `&`, both sides escaped; a pair without a value is left out.
    public static func encode(_ pairs: [(name: String, value: String?)]) -> String {
        pairs.compactMap { pair in pair.value.map { "\(escaped(pair.name))=\(escaped($0))" } }.joined(separator: "&")
    }

    private static let hexDigits = Array("0123456789ABCDEF")

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }
}
