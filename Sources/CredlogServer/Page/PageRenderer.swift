import Foundation
import Hummingbird
import Mustache

/// Renders the page templates (`Resources/templates/*.mustache`); `{{ }}` escapes HTML, so
/// whatever a user typed (a connection named `<script>…`) shows as text.
///
/// Every template starts with `{{% CONTENT_TYPE: HTML_SCALARS}}`: swift-mustache's own HTML
/// escaping compares whole characters, so `"` followed by a combining mark (one character)
/// passed through unescaped and closed an attribute. ``ScalarHTMLEscaping`` escapes each scalar.
struct PageRenderer: Sendable {
    let library: MustacheLibrary

    /// The content type every template declares.
    static let contentTypeName = "HTML_SCALARS"

    /// Loads the templates shipped with the server.
    static func load() async throws -> PageRenderer {
        MustacheContentTypes.register(ScalarHTMLEscaping(), named: contentTypeName)
        return PageRenderer(library: try await MustacheLibrary(directory: Assets.directory.appendingPathComponent("templates").path))
    }

    /// An HTML response of `template` filled with `page`.
    func response(_ template: String, _ page: Any, status: HTTPResponse.Status = .ok) -> Response {
        let html = library.render(page, withTemplate: template) ?? "template \(template) is missing"
        return Response(status: status, headers: Self.headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// Every page: HTML, never cached, scripts and styles from credlog itself only, no framing.
    static let headers: HTTPFields = [
        .contentType: "text/html; charset=utf-8",
        .cacheControl: "no-store",
        .contentSecurityPolicy: "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        .init("X-Content-Type-Options")!: "nosniff",
        .init("Referrer-Policy")!: "same-origin",
    ]
}

/// HTML escaping by Unicode scalar: `&`, `<`, `>`, `"` and `'` become entities wherever they
/// stand, whatever combining marks follow them.
struct ScalarHTMLEscaping: MustacheContentType {
    func escapeText(_ text: String) -> String {
        var escaped = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped.append(contentsOf: "&amp;".unicodeScalars)
            case "<": escaped.append(contentsOf: "&lt;".unicodeScalars)
            case ">": escaped.append(contentsOf: "&gt;".unicodeScalars)
            case "\"": escaped.append(contentsOf: "&quot;".unicodeScalars)
            case "'": escaped.append(contentsOf: "&#39;".unicodeScalars)
            default: escaped.append(scalar)
            }
        }
        return String(escaped)
    }
}

/// The files credlog serves and its templates, shipped as the target's resources.
enum Assets {
    static let directory: URL = Bundle.module.bundleURL.appendingPathComponent("Resources")

    /// What may be served, by path under `Resources/`, with its media type (nothing else is:
    /// no path traversal).
    private static let served = [
        "assets/app.css": "text/css; charset=utf-8", "assets/app.js": "text/javascript; charset=utf-8",
        "assets/favicon.svg": "image/svg+xml", "openapi.json": "application/json",
    ].merging(iconsByPiece.values.map { ($0, "image/svg+xml") }) { first, _ in first }

    /// The catalogued pieces' icons (`assets/piece-ID.svg`), by piece id. A piece without one
    /// (a project's own registration, `custom-api`) keeps its initials badge.
    static let iconsByPiece: [String: String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("assets").path)) ?? []
        return Dictionary(uniqueKeysWithValues: names.filter { $0.hasPrefix("piece-") && $0.hasSuffix(".svg") }.map { name in
            (String(name.dropFirst("piece-".count).dropLast(".svg".count)), "assets/" + name)
        })
    }()

    /// The bytes and media type of a served file; `nil` for anything else.
    static func file(_ path: String) -> (data: Data, mediaType: String)? {
        guard let type = served[path], let data = try? Data(contentsOf: directory.appendingPathComponent(path)) else { return nil }
        return (data, type)
    }
}
