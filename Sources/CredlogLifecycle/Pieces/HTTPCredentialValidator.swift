import CredlogDomain
import CredlogEvents
import Foundation
import NIOHTTP1

/// Runs a piece's validation request (``ValidationRequest``) with a credential: before a new
/// credential is accepted (``validate(_:for:)``, unless the request is kept for rechecks), and
/// on a recheck (``ask(_:with:piece:)``). Keeps only the provider's status and a short reason
/// (``ProviderReason``: never the body, never the credential's values).
public struct HTTPCredentialValidator: CredentialValidator {
    let http: OutboundHTTP

    public init(http: OutboundHTTP) { self.http = http }

    /// The provider's answer: whether it accepted the credential, its status, and why it refused.
    public struct Answer: Sendable, Equatable {
        public var accepted: Bool
        public var status: Int
        public var reason: String?
    }

    /// The provider could not be asked (unreachable, a timeout, a refused destination): says
    /// nothing about the credential.
    public struct Unanswered: Error, CategorizedError, CustomStringConvertible {
        public var description: String
        public var category: ErrorCategory { .unavailable }
    }

    public func validate(_ canonical: [UInt8], for piece: PieceDefinition) async throws {
        guard let validation = piece.validation, validation.runsOnConnect else { return }
        let answer: Answer
        do {
            answer = try await ask(canonical, with: validation, piece: piece)
        } catch let unanswered as Unanswered {
            throw DomainError.invalid(unanswered.description)
        }
        guard answer.accepted else {
            throw DomainError.invalid("\(piece.displayName) refused the credential (HTTP \(answer.status)\(answer.reason.map { ": \($0)" } ?? ""))")
        }
    }

    /// Sends `validation` with the credential `canonical` (its checked JSON) and reads the answer.
    public func ask(_ canonical: [UInt8], with validation: ValidationRequest, piece: PieceDefinition) async throws -> Answer {
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
            throw Unanswered(description: "the credential could not be checked with \(piece.displayName): \(Self.scrub(error.description, fields))")
        } catch let error as OutboundHTTP.RefusedDestination {
            throw Unanswered(description: "the credential could not be checked with \(piece.displayName): \(error.description)")
        }
        var accepted = validation.validStatuses.contains(response.status)
        if accepted, let field = validation.requireTrue {
            let answer = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
            accepted = (answer?[field] as? Bool) == true
        }
        return Answer(accepted: accepted, status: response.status,
                      reason: accepted ? nil : ProviderReason.from(response.body, secrets: Array(fields.values)))
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
