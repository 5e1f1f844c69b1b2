import Foundation

/// The short reason credlog keeps from a provider's error answer: never the body itself (a
/// hostile or chatty provider could put anything there, secrets and markup included), only a
/// well-known field of a JSON answer, cut to printable ASCII and a bounded length.
enum ProviderReason {
    /// The most characters kept.
    static let maxLength = 120

    /// `error_description`, `message` or `error` of a JSON object answer (the first that is a
    /// string), sanitised; `nil` when there is none. Each of `secrets` (4 characters or more)
    /// is blanked, in case the provider echoed what it was sent.
    static func from(_ body: [UInt8], secrets: [String] = []) -> String? {
        guard body.count <= OutboundHTTP.maxBody,
              let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { return nil }
        for field in ["error_description", "message", "error"] {
            if let text = object[field] as? String, let reason = sanitised(text, secrets: secrets) { return reason }
        }
        if let nested = object["error"] as? [String: Any], let text = nested["message"] as? String {
            return sanitised(text, secrets: secrets)
        }
        return nil
    }

    /// Printable ASCII only (anything else becomes a space), white space folded, secrets
    /// blanked, at most ``maxLength`` characters; `nil` when nothing is left.
    static func sanitised(_ text: String, secrets: [String] = []) -> String? {
        let scrubbed = secrets.filter { $0.count >= 4 }.reduce(String(text.prefix(4 * maxLength))) {
            $0.replacingOccurrences(of: $1, with: "[redacted]")
        }
        let printable = String(String.UnicodeScalarView(scrubbed.unicodeScalars.map { (0x20...0x7E).contains($0.value) ? $0 : " " }))
        let folded = printable.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        guard !folded.isEmpty else { return nil }
        return folded.count > maxLength ? String(folded.prefix(maxLength - 1)) + "…" : folded
    }
}
