import CredlogEvents
import CredlogDomain
import Foundation

/// A page of the connections table: filtered by status, searched by name, sorted, and
/// paginated by keyset with an opaque cursor (no row repeated or skipped between pages).
public struct ConnectionList: Sendable {
    public enum StatusFilter: String, Sendable, CaseIterable {
        case active, inactive, all
        /// Active, but the credential expires within ``ConnectionList/expiringWithin`` of `now`
        /// and credlog cannot renew it: an API key with an expiry, an OAuth2 token without a
        /// refresh token, or with one but no OAuth2 client registered for its piece
        /// (``ConnectionList/renewablePieces``).
        case expiring
    }
    public enum Sort: String, Sendable, CaseIterable {
        /// By name (case-insensitive), then id.
        case name
        /// Most recently connected first, then id.
        case connectedOn = "connected-on"
        /// Active ones first, then by name and id: the order of a builder's Connection dropdown,
        /// where an inactive connection is offered for reconnection.
        case activeFirst = "active-first"
    }

    public var projectId: String
    public var status: StatusFilter = .all
    /// A case-insensitive substring of the name.
    public var search: String?
    /// Only connections of these pieces (`gmail`, `slack`…); every piece when empty.
    public var pieces: [String] = []
    /// Only connections this member (or `system`, `engine`) created.
    public var owner: String?
    public var sort: Sort = .name
    public var limit: Int = 50
    /// The `nextCursor` of the previous page.
    public var after: String?
    /// The moment `expiring` counts from.
    public var now: Timestamp
    /// For `expiring`: the pieces whose OAuth2 tokens credlog refreshes (a client is registered
    /// in the project); ``QueryService`` sets them. Empty: no connection counts as renewing itself.
    public var renewablePieces: [String] = []

    /// How soon a credential that credlog cannot renew must expire for its connection to be
    /// `expiring` (the default warning lead of a webhook).
    public static let expiringWithin = Duration.seconds(MembershipEvent.WebhookAdded.defaultWarnDaysAhead * 86_400)

    public static let maxLimit = 500
    /// The most pieces one list filters on.
    public static let maxPieces = 20

    /// Whether terms of three characters or more go through the name index (true) or a walk of
    /// the sort index that tests every name (false). Both plans give the same rows; tests compare them.
    public var usesNameIndex = true

    /// Above this many matching names, a term is frequent: walking the sort index and testing
    /// each name finds a page sooner than fetching every match by id.
    static let matchesFetchedById = 2_000

    public init(projectId: String, status: StatusFilter = .all, search: String? = nil, pieces: [String] = [], owner: String? = nil,
                sort: Sort = .name, limit: Int = 50, after: String? = nil, now: Timestamp = .now()) {
        self.projectId = projectId
        self.status = status
        self.search = search
        self.pieces = pieces
        self.owner = owner
        self.sort = sort
        self.limit = limit
        self.after = after
        self.now = now
    }

    public struct Page: Sendable, Encodable {
        public var connections: [ConnectionSummary]
        /// Pass as `after` for the next page; `nil` on the last page.
        public var nextCursor: String?
    }

    /// Where a page ends: the sort key and id of its last row (and its status, sorted active first).
    struct Cursor: Codable {
        var sort: String
        var key: String
        var id: String
        var status: String?

        /// Base64url of its JSON, keys sorted (the same cursor reads the same in every process).
        var encoded: String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            let json = (try? encoder.encode(self)) ?? Data()
            return json.base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }

        init(sort: String, key: String, id: String, status: String? = nil) {
            self.sort = sort
            self.key = key
            self.id = id
            self.status = status
        }

        /// The longest cursor credlog issues is far shorter (a name key of at most 800 bytes).
        static let maxEncodedLength = 4096

        init(decoding text: String, for sort: Sort) throws(DomainError) {
            guard text.utf8.count <= Self.maxEncodedLength else {
                throw DomainError.invalid("the cursor is not one credlog issued; start again without --after")
            }
            var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
            guard let data = Data(base64Encoded: base64), let cursor = try? JSONDecoder().decode(Cursor.self, from: data) else {
                throw DomainError.invalid("the cursor is not one credlog issued; start again without --after")
            }
            guard cursor.sort == sort.rawValue else {
                throw DomainError.invalid("the cursor belongs to a list sorted by \(cursor.sort), not \(sort.rawValue)")
            }
            guard (sort == .activeFirst) == (cursor.status.map { ["active", "inactive"].contains($0) } ?? false) else {
                throw DomainError.invalid("the cursor is not one credlog issued; start again without --after")
            }
            self = cursor
        }
    }


    /// The page, read in the snapshot `db` reads. Terms of three characters or more are looked
    /// up in `names` (the process's ``NameSearchIndex``; without one, a throwaway index of the
    /// project is built for this page).
    public func fetch(_ db: any SQLSession, names: NameSearchIndex? = nil) throws -> Page {
        guard (1...Self.maxLimit).contains(limit) else { throw DomainError.invalid("the limit is 1 to \(Self.maxLimit)") }
        guard pieces.count <= Self.maxPieces else { throw DomainError.invalid("a list filters on at most \(Self.maxPieces) pieces") }
        let pieces = Array(Set(try pieces.map { piece throws(DomainError) in try Identifier.piece(piece) })).sorted()
        let owner = try owner.map { owner throws(DomainError) in try Identifier.actor(owner, what: "owner") }
        let trimmed = search?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        let term = trimmed.isEmpty ? "" : try DisplayText.searchTerm.validate(trimmed).lowercased()
        let cursor = try after.map { try Cursor(decoding: $0, for: sort) }
        let matches = usesNameIndex ? try (names ?? NameSearchIndex()).matches(of: term, in: projectId, db) : nil
        var rows: [ConnectionRow]
        switch (matches, sort) {
        case (let matches?, .name):
            // The matches in name order, from the cursor on, fetched by id in growing batches
            // until the page is full (the status filter may drop some).
            var start = cursor.map { matches.start(after: ($0.key, $0.id)) } ?? 0
            var batch = limit + 1
            rows = []
            while rows.count <= limit {
                let (ids, next) = matches.ids(from: start, count: batch)
                guard !ids.isEmpty else { break }
                rows += try self.rows(term: term, pieces: pieces, owner: owner, ids: ids, cursor: nil, count: limit + 1 - rows.count, db)
                (start, batch) = (next, min(batch * 4, 4_096))
            }
        case (let matches?, .connectedOn), (let matches?, .activeFirst):
            // A rare term's matches are fetched by id; a frequent one's are found sooner by
            // walking the sort's index and testing each name.
            rows = try self.rows(term: term, pieces: pieces, owner: owner, ids: matches.all(cap: Self.matchesFetchedById), cursor: cursor, count: limit + 1, db)
        case (nil, _):
            rows = try self.rows(term: term, pieces: pieces, owner: owner, ids: nil, cursor: cursor, count: limit + 1, db)
        }
        var next: String?
        if rows.count > limit {
            rows.removeLast(rows.count - limit)
            if let last = rows.last {
                next = Cursor(sort: sort.rawValue, key: sort == .connectedOn ? last.connectedAt.iso8601 : last.nameKey, id: last.id,
                              status: sort == .activeFirst ? last.summary.status.rawValue : nil).encoded
            }
        }
        return Page(connections: rows.map(\.summary), nextCursor: next)
    }

    /// Up to `count` rows of the project in the list's order that pass the status filter, are of
    /// one of `pieces` (any when empty), were created by `owner` (anyone when `nil`), contain `term`,
    /// come after `cursor` and, given `ids`, are among them.
    private func rows(term: String, pieces: [String], owner: String?, ids: [String]?, cursor: Cursor?, count: Int,
                      _ db: any SQLSession) throws -> [ConnectionRow] {
        var clauses = ["c.project_id = ?"]
        var arguments: SQLArguments = [projectId]
        // Given ids, each is looked up by the primary key (the joined list comes first: SQLite
        // would otherwise walk a sort index testing every row against the list).
        var (with, source) = ("", "connections AS c")
        if let ids {
            guard !ids.isEmpty else { return [] }
            with = "WITH m(id) AS (VALUES \(Array(repeating: "(?)", count: ids.count).joined(separator: ", "))) "
            source = "m \(db.dialect.orderedJoin) connections AS c ON c.id = m.id"
            arguments = SQLArguments(ids.map(SQLValue.text)) + arguments
        }
        switch status {
        case .all: break
        case .active, .inactive:
            clauses.append("c.status = ?")
            arguments.append(status.rawValue)
        case .expiring:
            clauses.append("c.status = 'active' AND c.credential_expires_at <= ?")
            arguments.append((now + Self.expiringWithin).iso8601)
            if !renewablePieces.isEmpty {
                let (renewable, pieces) = SQLArguments.membership("c.piece", in: renewablePieces)
                clauses.append("(c.credential_refreshable = 0 OR NOT \(renewable))")
                arguments = arguments + pieces
            }
        }
        if !pieces.isEmpty {
            let (clause, values) = SQLArguments.membership("c.piece", in: pieces)
            clauses.append(clause)
            arguments = arguments + values
        }
        if let owner {
            clauses.append("c.created_by = ?")
            arguments.append(owner)
        }
        if !term.isEmpty {
            clauses.append("\(db.dialect.position)(c.name_key, ?) > 0")
            arguments.append(term)
        }
        // The sort's key column, and the direction that comes after the cursor.
        let (key, later) = sort == .connectedOn ? ("c.connected_at", "<") : ("c.name_key", ">")
        if let cursor {
            var after = "(\(key) \(later) ? OR (\(key) = ? AND c.id \(later) ?))"
            var values: SQLArguments = [cursor.key, cursor.key, cursor.id]
            if sort == .activeFirst, let status = cursor.status {  // 'active' sorts before 'inactive'
                after = "(c.status > ? OR (c.status = ? AND \(after)))"
                values = [status, status] + values
            }
            clauses.append(after)
            arguments = arguments + values
        }
        arguments.append(count)
        let order = switch sort {
        case .name: "c.name_key, c.id"
        case .connectedOn: "c.connected_at DESC, c.id DESC"
        case .activeFirst: "c.status, c.name_key, c.id"
        }
        let columns = ConnectionRow.columns.map { "c." + $0 }.joined(separator: ", ")
        return try db.fetchAll(sql: """
            \(with)SELECT \(columns) FROM \(source) WHERE \(clauses.joined(separator: " AND ")) ORDER BY \(order) LIMIT ?
            """, arguments: arguments).map(ConnectionRow.init(positional:))
    }
}
