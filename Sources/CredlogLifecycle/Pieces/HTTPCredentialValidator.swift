import CredlogDomain
import CredlogEvents
import Foundation
import NIOHTTP1

/// Runs a piece's validation request (``ValidationRequest``) with the new credential, and refuses
/// the credential with the provider's status and a short reason (``ProviderReason``: never the
/// body, never the credential's values).
public struct HTTPCredentialValidator: CredentialValidator {
    let http: OutboundHTTP

    public init(http: OutboundHTTP) { self.http = http }

    public func validate(_ canonical: [UInt8], for piece: PieceDefinition) async throws {
        guard let validation = piece.validation else { return }
        let fields = (try? JSONSerialization.jsonObject(with: Data(canonical)) as? [String: Any])?
            .compactMapValues { $0 as? String } ?? [:]
        var url = validation.url
        var headers: [(String, String)] = []
        let placement = validation.credential
        switch placement.location {
        case .header:
            headers.append((placement.name ?? "", Self.fill(placement.value ?? "", with: fields)))
        case .query:
            url += (url.contains("?") ? "&" : "?") + FormEncoding.encode([(placement.name ?? "", Self.fill(placement.value ?? "", with: fields))])
        case .basic:
            let pair = "\(fields["username"] ?? ""):\(fields["password"] ?? "")"
            headers.append(("Authorization", "Basic " + Data(pair.utf8).base64EncodedString()))
        }
        let response: OutboundHTTP.Response
        do {
            response = try await http.send(HTTPMethod(rawValue: validation.method), url, headers: headers)
        } catch let error as OutboundHTTP.Unreachable {
            throw DomainError.invalid("the credential could not be checked with \(piece.displayName): \(Self.scrub(error.description, fields))")
        } catch let error as OutboundHTTP.RefusedDestination {
            throw DomainError.invalid("the credential could not be checked with \(piece.displayName): \(error.description)")
        }
        guard validation.validStatuses.contains(response.status) else {
            let reason = ProviderReason.from(response.body, secrets: Array(fields.values))
            throw DomainError.invalid("\(piece.displayName) refused the credential (HTTP \(response.status)\(reason.map { ": \($0)" } ?? ""))")
        }
    }

    /// Replaces each `{field}` of the template with that credential field.
    static func fill(_ template: String, with fields: [String: String]) -> String {
        fields.reduce(template) { text, field in text.replacingOccurrences(of: "{\(field.key)}", with: field.value) }
    }

    /// The text with every credential value in it blanked: a provider may echo what it was sent.
    static func scrub(_ text: String, _ fields: [String: String]) -> String {
        fields.values.filter { $0.count >= 4 }.reduce(text) { $0.replacingOccurrences(of: $1, with: "[redacted]") }
    }
}
