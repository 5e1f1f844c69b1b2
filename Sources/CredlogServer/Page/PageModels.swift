import CredlogDomain
import CredlogEvents
import CredlogProjections

/// What the templates show. Plain values only: the templates hold no logic beyond sections.
/// The signed-in member, as every page's header shows them.
struct LayoutInfo {
    var principal: Principal
    var memberId: String
    var projectId: String
    var isAdmin: Bool
    var csrfToken: String

    /// The signed-in member as the query service sees them: within the session's project.
    var reader: QueryService.Reader { .init(principal, projectScope: projectId) }
}

struct ConnectionsPage {
    struct Row {
        var id: String
        var piece: String
        /// The piece's display name in the catalogue (its id when not catalogued).
        var pieceName: String
        var providerInitials: String
        /// One of 12 badge colours, from the piece's name.
        var hue: Int
        var name: String
        var authType: String
        var isActive: Bool
        var statusReason: String
        var flowCount: Int
        var connectedOn: String
        /// Reconnects through the provider's consent page (an OAuth2 piece with a registered client).
        var popup: Bool
    }
    /// A piece the New connection form offers.
    struct PieceChoice {
        var id: String
        var name: String
        var authType: String
        /// Connects through the provider's consent page.
        var oauth2: Bool
    }
    struct Choice {
        var value: String
        var label: String
        var selected: Bool
    }

    var layout: LayoutInfo
    var rows: [Row]
    var pieces: [PieceChoice]
    var statusChoices: [Choice]
    /// The Provider filter: every piece of the project's catalogue.
    var providerChoices: [Choice]
    var search: String
    var returnTo: String
    var nextPage: String?
    var notice: String?
    var error: String?
    var isEmpty: Bool
}

struct ConnectionPage {
    var layout: LayoutInfo
    var connection: ConnectionDetail
    var isActive: Bool
    var at: String
    var isPast: Bool
    var history: [StatusChange]
    var audit: [AuditEntry]
}

struct FlowsPage {
    var layout: LayoutInfo
    var connectionId: String
    var connectionName: String
    var flows: [FlowUse]
    var isEmpty: Bool
}

struct MessagePage {
    var title: String
    var message: String
    var layout: LayoutInfo?
}

extension ConnectionsPage.Row {
    init(_ row: ConnectionSummary, piece: PieceDefinition?) {
        let words = row.piece.split(whereSeparator: { !$0.isLetter && !$0.isNumber })
        let initials = words.count > 1 ? words.prefix(2).compactMap(\.first).map(String.init).joined() : String(row.piece.prefix(2))
        self.init(id: row.id, piece: row.piece, pieceName: piece?.displayName ?? row.piece, providerInitials: initials.uppercased(),
                  hue: Int(row.piece.utf8.reduce(UInt32(7)) { ($0 &* 31) &+ UInt32($1) } % 12),
                  name: row.name, authType: row.authType, isActive: row.status == .active,
                  statusReason: row.statusReason ?? "", flowCount: row.flowCount, connectedOn: String(row.connectedAt.iso8601.prefix(10)),
                  popup: piece?.hasOAuth2Client == true && row.authType == AuthType.oauth2.rawValue)
    }
}
