import CredlogEvents
import Foundation

/// The rules for a piece definition an admin registers, and for the URLs it holds.
public enum PieceRules {
    public static func validate(_ piece: PieceDefinition, clientSecret: SealedCredentials?) throws(DomainError) -> PieceDefinition {
        _ = try Identifier.piece(piece.id)
        guard !piece.displayName.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw DomainError.invalid("the piece needs a display name")
        }
        switch (piece.authType, piece.oauth2) {
        case (.oauth2, nil): throw DomainError.invalid("an OAuth2 piece needs its 'oauth2' settings")
        case (.oauth2, let settings?):
            _ = try httpURL(settings.authorizeUrl, what: "the authorize URL")
            _ = try httpURL(settings.tokenUrl, what: "the token URL")
            guard let clientId = settings.clientId, !clientId.isEmpty else {
                throw DomainError.invalid("an OAuth2 piece needs its client id")
            }
            if settings.clientAuthentication == .basic, clientSecret == nil {
                throw DomainError.invalid("a client that authenticates with HTTP Basic needs its client secret")
            }
        case (_, _?): throw DomainError.invalid("only OAuth2 pieces take 'oauth2' settings")
        case (_, nil): if clientSecret != nil { throw DomainError.invalid("only OAuth2 pieces take a client secret") }
        }
        if let fields = piece.fields {
            guard piece.authType == .custom else { throw DomainError.invalid("only custom pieces list their fields") }
            guard !fields.isEmpty, fields.allSatisfy({ !$0.isEmpty }), Set(fields).count == fields.count else {
                throw DomainError.invalid("a custom piece's fields are distinct, non-empty names")
            }
        }
        if let validation = piece.validation {
            guard ["GET", "POST", "HEAD"].contains(validation.method) else {
                throw DomainError.invalid("the validation method is GET, POST or HEAD")
            }
            _ = try httpURL(validation.url, what: "the validation URL")
            guard !validation.validStatuses.isEmpty, validation.validStatuses.allSatisfy({ (100...599).contains($0) }) else {
                throw DomainError.invalid("the validation request needs its valid statuses (100 to 599)")
            }
            switch validation.credential.location {
            case .header, .query:
                guard validation.credential.name?.isEmpty == false, validation.credential.value?.isEmpty == false else {
                    throw DomainError.invalid("a validation credential in a \(validation.credential.location.rawValue) needs its name and value")
                }
            case .basic:
                guard piece.authType == .basic else { throw DomainError.invalid("only basic-auth pieces validate with HTTP Basic") }
            }
            if let field = validation.requireTrue {
                _ = try Identifier.check(field, what: "the validation's requireTrue field")
            }
        }
        return piece
    }

    /// An absolute http or https URL with a host, without credentials in it.
    public static func httpURL(_ text: String, what: String) throws(DomainError) -> String {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https", components.host?.isEmpty == false else {
            throw DomainError.invalid("\(what) must be an absolute http or https URL")
        }
        guard components.user == nil, components.password == nil else {
            throw DomainError.invalid("\(what) must not carry a user name or password")
        }
        return text
    }
}
