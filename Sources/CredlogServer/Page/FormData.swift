import Hummingbird

/// A submitted HTML form (`application/x-www-form-urlencoded`).
struct FormData {
    private var fields: [String: String] = [:]

    /// Reads and parses the body (at most the context's upload size, else 413).
    init(_ request: Request, context: some RequestContext) async throws {
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        for pair in String(buffer: buffer).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]) else { continue }
            fields[name] = parts.count > 1 ? Self.decode(parts[1]) ?? "" : ""
        }
    }

    subscript(_ name: String) -> String? { fields[name] }

    /// The field, or `nil` when it is missing or blank.
    func nonEmpty(_ name: String) -> String? {
        guard let value = fields[name], !value.allSatisfy(\.isWhitespace) else { return nil }
        return value
    }

    private static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
