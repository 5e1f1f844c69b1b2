import Hummingbird

/// A submitted HTML form (`application/x-www-form-urlencoded`), decoded by Hummingbird.
struct FormData {
    private let fields: [String: String]

    /// Reads and decodes the body (at most the context's upload size, else 413).
    init(_ request: Request, context: some RequestContext) async throws {
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        do {
            fields = try URLEncodedFormDecoder().decode([String: String].self, from: String(buffer: buffer))
        } catch {
            throw Problem.badRequest("the form could not be read")
        }
    }

    subscript(_ name: String) -> String? { fields[name] }

    /// The field, or `nil` when it is missing or blank.
    func nonEmpty(_ name: String) -> String? {
        guard let value = fields[name], !value.allSatisfy(\.isWhitespace) else { return nil }
        return value
    }
}
