import ArgumentParser
import CredlogDomain
import CredlogEvents
import Foundation

struct PieceGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "piece", abstract: "The piece catalogue: list it, register a piece or a project's OAuth2 client.",
        subcommands: [List.self, Register.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the pieces a project sees (built in and registered).")
        @Option(help: "The project id.") var project: String
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let workspace = try await Workspace.open(options)
            let state = try await workspace.project(project, options)
            let pieces = workspace.service.pieces.pieces(in: state)
            if options.json { return try Output.json(pieces) }
            Output.table(["PIECE", "NAME", "AUTH", "OAUTH2 CLIENT", "VALIDATION", "SOURCE"], pieces.map { piece in
                [piece.id, piece.displayName, piece.authType.rawValue,
                 piece.oauth2.map { $0.clientId ?? "none registered" } ?? "-",
                 piece.validation.map { "\($0.method) \($0.url)" } ?? "-",
                 state.pieces[piece.id] == nil ? "built in" : "registered"]
            })
        }
    }

    struct Register: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a piece in a project (admins), or the project's own OAuth2 client for a catalogued one.",
            discussion: """
                The file holds a piece definition as in the built-in catalogue (Sources/CredlogDomain/Resources/pieces.json): \
                {"id", "displayName", "authType", "fields"?, "oauth2"?: {"authorizeUrl", "tokenUrl", "scopes", "clientId", \
                "pkce", "clientAuthentication": "body"|"basic"}, "validation"?: {"method", "url", "credential": {"in": \
                "header"|"query"|"basic", "name", "value": "Bearer {apiKey}"}, "validStatuses"}}. The OAuth2 client secret \
                comes on standard input (--client-secret-stdin), never in the file or argv; it is sealed.
                """)
        @Option(help: "The project id.") var project: String
        @Option(help: "The piece definition, a JSON file.") var file: String
        @Flag(help: "Read the OAuth2 client secret from standard input.") var clientSecretStdin = false
        @OptionGroup var options: GlobalOptions
        @OptionGroup var command: CommandOptions

        func run() async throws {
            guard let data = FileManager.default.contents(atPath: file) else { throw CLIError.usage("cannot read \(file)") }
            let piece: PieceDefinition
            do {
                piece = try JSONDecoder().decode(PieceDefinition.self, from: data)
            } catch {
                throw DomainError.invalid("\(file) is not a piece definition: \(Self.decodingProblem(error))")
            }
            var secret: [UInt8]? = clientSecretStdin
                ? Array(String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
                    .trimmingCharacters(in: .whitespacesAndNewlines).utf8)
                : nil
            let workspace = try await Workspace.open(options)
            let outcome = try await workspace.service.registerPiece(piece, clientSecret: &secret, in: project,
                                                                    context: try workspace.context(options, command))
            try OutcomeReport.print(outcome, done: "registered \(piece.id) in \(project)", unchanged: "", json: options.json)
        }

        /// Where the JSON did not fit, without quoting values.
        static func decodingProblem(_ error: any Error) -> String {
            switch error as? DecodingError {
            case .keyNotFound(let key, let context)?: "missing '\((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))'"
            case .typeMismatch(_, let context)?, .valueNotFound(_, let context)?, .dataCorrupted(let context)?:
                "wrong value at '\(context.codingPath.map(\.stringValue).joined(separator: "."))'"
            default: "not valid JSON"
            }
        }
    }
}
