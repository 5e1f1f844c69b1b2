import CredlogEvents
import Foundation

/// The pieces credlog knows: the built-in catalogue (`Resources/pieces.json`) and, per project,
/// what its admins registered (which wins, so a project brings its own OAuth2 client).
///
/// A piece in neither is a custom piece: it takes any auth type, with no validation and no
/// OAuth2 flow.
public struct PieceCatalogue: Sendable {
    public let builtIn: [String: PieceDefinition]

    public init(_ pieces: [PieceDefinition]) {
        builtIn = Dictionary(pieces.map { ($0.id, $0) }) { _, last in last }
    }

    /// The catalogue shipped with credlog.
    public static let standard: PieceCatalogue = {
        guard let url = Bundle.module.url(forResource: "pieces", withExtension: "json", subdirectory: "Resources"),
              let data = try? Data(contentsOf: url),
              let pieces = try? JSONDecoder().decode([PieceDefinition].self, from: data) else {
            preconditionFailure("the built-in piece catalogue Resources/pieces.json is missing or malformed")
        }
        return PieceCatalogue(pieces)
    }()

    /// The piece as a project sees it.
    public func piece(_ id: String, in project: ProjectState) -> PieceDefinition? {
        project.pieces[id]?.piece ?? builtIn[id]
    }

    /// Every piece a project sees, by id.
    public func pieces(in project: ProjectState) -> [PieceDefinition] {
        var all = builtIn
        for (id, registered) in project.pieces { all[id] = registered.piece }
        return all.values.sorted { $0.id < $1.id }
    }

    /// Checks that `authType` is the one a known piece takes (custom pieces take any).
    public func check(piece id: String, authType: AuthType, in project: ProjectState) throws(DomainError) -> PieceDefinition? {
        guard let piece = piece(id, in: project) else { return nil }
        guard piece.authType == authType else {
            throw DomainError.invalid("the piece \(id) takes \(piece.authType.rawValue) credentials, not \(authType.rawValue)")
        }
        return piece
    }
}
