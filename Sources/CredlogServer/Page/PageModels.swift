import CredlogDomain
import CredlogEvents
import CredlogProjections

/// What the templates show. Plain values only: the templates hold no logic beyond sections.
/// The signed-in member, as every page's header shows them.
struct LayoutInfo {
    var principal: Principal
    var memberId: String
    var projectId: String
    /// The member's role in the project (`admin`, `member`), as the header shows it.
    var role: String
    /// An admin signed in with a full token: offered reconnect, rename and recheck.
    var isAdmin: Bool
    /// Signed in with a read-only token: offered no action at all.
    var readOnly: Bool
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
        /// The piece's icon (`/assets/piece-ID.svg`) if it is catalogued with one; else the initials show.
        var icon: String?
        /// One of 12 badge colours, from the piece's name.
        var hue: Int
        var name: String
        var authType: String
        var isActive: Bool
        var statusReason: String
        /// "Expires in 3 days": an active credential that credlog cannot renew, expiring soon.
        var expiresSoon: String?
        var flowCount: Int
        /// Shown in the browser's time zone by the page's script; UTC in the tooltip and without it.
        var connectedOn: PageTime
        /// Who created it (its owner).
        var owner: String
        /// Reconnects through the provider's consent page (an OAuth2 piece with a registered client).
        var popup: Bool
        /// Its piece has a validation request: admins may recheck it.
        var checkable: Bool
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
    /// The detail's times, readable.
    struct Times {
        var statusSince: PageTime
        var credentialSetAt: PageTime
        var credentialExpiresAt: PageTime?
        var lastCheckedAt: PageTime?

        init(_ detail: ConnectionDetail) {
            statusSince = PageTime(detail.statusSince)
            credentialSetAt = PageTime(detail.credentialSetAt)
            credentialExpiresAt = detail.credentialExpiresAt.map(PageTime.init)
            lastCheckedAt = detail.lastCheckedAt.map(PageTime.init)
        }
    }

    var layout: LayoutInfo
    var connection: ConnectionDetail
    var times: Times
    var isActive: Bool
    var at: String
    var isPast: Bool
    var history: [Timed<StatusChange>]
    /// The link to the next page of the status history, when there is one.
    var laterHistory: String?
    /// Newest first.
    var audit: [Timed<AuditEntry>]
    /// The link to the older entries of the audit trail, when there are any.
    var olderAudit: String?
}

struct FlowsPage {
    var layout: LayoutInfo
    var connectionId: String
    var connectionName: String
    /// Each flow with when it started using the connection.
    var flows: [Timed<FlowUse>]
    var isEmpty: Bool
    /// The next page's link, when more flows use it.
    var nextPage: String?
}

/// A time as a page shows it: `2 Nov 2026, 10:02 UTC`, in a `<time>` element that keeps the
/// exact value. Text that is not a time (a provider's expiry written by someone else) is shown as is.
struct PageTime {
    var iso: String
    var utc: String

    init(_ time: Timestamp) {
        iso = time.iso8601
        utc = time.readable
    }

    init(_ text: String) {
        let time = Timestamp(iso8601: text)
        iso = time?.iso8601 ?? ""
        utc = time?.readable ?? text
    }
}

/// A row of a page's table with its time made readable.
struct Timed<Item> {
    var item: Item
    var at: PageTime
}

struct MessagePage {
    var title: String
    var message: String
    var layout: LayoutInfo?
}

extension ConnectionsPage.Row {
    init(_ row: ConnectionSummary, piece: PieceDefinition?, now: Timestamp) {
        let words = row.piece.split(whereSeparator: { !$0.isLetter && !$0.isNumber })
        let initials = words.count > 1 ? words.prefix(2).compactMap(\.first).map(String.init).joined() : String(row.piece.prefix(2))
        self.init(id: row.id, piece: row.piece, pieceName: piece?.displayName ?? row.piece, providerInitials: initials.uppercased(),
                  icon: Assets.iconsByPiece[row.piece].map { "/" + $0 },
                  hue: Int(row.piece.utf8.reduce(UInt32(7)) { ($0 &* 31) &+ UInt32($1) } % 12),
                  name: row.name, authType: row.authType, isActive: row.status == .active,
                  statusReason: row.statusReason ?? "", expiresSoon: Self.expiresSoon(row, piece: piece, now: now), flowCount: row.flowCount, connectedOn: PageTime(row.connectedAt),
                  owner: row.createdBy,
                  popup: piece?.hasOAuth2Client == true && row.authType == AuthType.oauth2.rawValue,
                  checkable: piece?.validation != nil)
    }

    /// The badge of a connection in the `expiring` filter: in hours (rounded up) within a day,
    /// else in whole days; `nil` for any other.
    static func expiresSoon(_ row: ConnectionSummary, piece: PieceDefinition?, now: Timestamp) -> String? {
        guard row.status == .active, !(row.credentialRefreshable && piece?.hasOAuth2Client == true), let text = row.credentialExpiresAt,
              let expiry = Timestamp(iso8601: text), expiry <= now + ConnectionList.expiringWithin else { return nil }
        let seconds = (expiry.microseconds - now.microseconds) / 1_000_000
        if seconds <= 0 { return "Expired" }
        if seconds < 3_600 { return "Expires within an hour" }
        if seconds < 86_400 {
            let hours = (seconds + 3_599) / 3_600
            return "Expires in \(hours) hour\(hours == 1 ? "" : "s")"
        }
        let days = seconds / 86_400
        return "Expires in \(days) day\(days == 1 ? "" : "s")"
    }
}
