import CredlogEvents
import CredlogDomain
import Foundation

/// A page of the connections table: filtered by status, searched by name, sorted, and
/// paginated by keyset with an opaque cursor (no row repeated or skipped between pages).
public struct ConnectionList: Sendable {
    public enum StatusFilter: String, Sendable, CaseIterable { case active, inactive, all }
    public enum Sort: String, Sendable, CaseIterable {
        /// By name (case-insensitive), then id.
        case name
        /// Most recently connected first, then id.
        case connectedOn = "connected-on"
    }

    public var projectId: String
    public var status: StatusFilter = .all
    /// A case-insensitive substring of the name.
    public var search: String?
    public var sort: Sort = .name
    public var limit: Int = 50
    /// The `nextCursor` of the previous page.
    public var after: String?

    public static let maxLimit = 500

    /// Whether terms of three characters or more go through the trigram index (true) or a scan
    /// that tests every name (false). Both plans give the same rows; tests compare them.
    public var usesTrigramIndex = true

    public init(projectId: String, status: StatusFilter = .all, search: String? = nil, sort: Sort = .name,
                limit: Int = 50, after: String? = nil) {
        self.projectId = projectId
        self.status = status
        self.search = search
        self.sort = sort
        self.limit = limit
        self.after = after
    }

    public struct Page: Sendable, Encodable {
        public var connections: [ConnectionSummary]
        /// Pass as `after` for the next page; `nil` on the last page.
        public var nextCursor: String?
    }

    /// The trigram of `term` with the fewest names in the project, counting each at most up to
    /// `countCap` (a trigram past the cap is common: any of those walks fast enough). `nil`
    /// when a trigram is in no name: then nothing matches.
    static func rarestTrigram(of term: String, projectId: String, _ db: any SQLSession) throws -> String? {
        var rarest: (trigram: String, names: Int)?
        for trigram in Trigrams.of(term).sorted() {
            let names: Int = try db.fetchValue(sql: """
                SELECT COUNT(*) FROM (SELECT 1 FROM connection_name_trigrams WHERE project_id = ? AND trigram = ? LIMIT \(countCap)) AS capped
                """, arguments: [projectId, trigram]) ?? 0
            if names == 0 { return nil }
            if names < rarest?.names ?? .max { rarest = (trigram, names) }
        }
        return rarest?.trigram
    }

    static let countCap = 1000

    /// Where a page ends: the sort key and id of its last row.
    struct Cursor: Codable {
        var sort: String
        var key: String
        var id: String

        /// Base64url of its JSON, keys sorted (the same cursor reads the same in every process).
        var encoded: String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            let json = (try? encoder.encode(self)) ?? Data()
            return json.base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }

        init(sort: String, key: String, id: String) {
            self.sort = sort
            self.key = key
            self.id = id
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
            self = cursor
        }
    }


    public func fetch(_ db: any SQLSession) throws -> Page {
        guard (1...Self.maxLimit).contains(limit) else { throw DomainError.invalid("the limit is 1 to \(Self.maxLimit)") }
        // Without a term (or with one too short for trigrams) the sort index is walked; with one,
        // the rows come from its rarest trigram's range, already in name order, joined to the table.
        let trimmed = search?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        let term = trimmed.isEmpty ? "" : try DisplayText.searchTerm.validate(trimmed).lowercased()
        let trigram: String?
        if usesTrigramIndex, term.unicodeScalars.count >= 3 {
            guard let rarest = try Self.rarestTrigram(of: term, projectId: projectId, db) else {
                return Page(connections: [], nextCursor: nil)
            }
            trigram = rarest
        } else {
            trigram = nil
        }
        // `k` is where the project's rows are walked from: the trigram rows, or the table itself.
        let source = trigram == nil ? "connections AS c"
            : "connection_name_trigrams AS k \(db.dialect.orderedJoin) connections AS c ON c.id = k.id"
        let k = trigram == nil ? "c" : "k"
        var clauses = ["\(k).project_id = ?"]
        var arguments: SQLArguments = [projectId]
        if let trigram {
            clauses.append("k.trigram = ?")
            arguments.append(trigram)
        }
        if status != .all {
            clauses.append("c.status = ?")
            arguments.append(status.rawValue)
        }
        if !term.isEmpty {
            clauses.append("\(db.dialect.position)(c.name_key, ?) > 0")
            arguments.append(term)
        }
        // The sort's key and id columns, and the direction that comes after the cursor.
        let (key, id, later) = sort == .name ? ("c.name_key", "c.id", ">") : ("c.connected_at", "c.id", "<")
        // Through a trigram's range, rows come in name-prefix order: the range is walked from the
        // cursor's prefix and only names sharing a prefix are sorted.
        let walked = sort == .name && trigram != nil ? "k.name_prefix, " : ""
        let order = sort == .name ? "\(walked)\(key), \(id)" : "\(key) DESC, \(id) DESC"
        if let after {
            let cursor = try Cursor(decoding: after, for: sort)
            clauses.append("(\(key) \(later) ? OR (\(key) = ? AND \(id) \(later) ?))")
            arguments = arguments + [cursor.key, cursor.key, cursor.id]
            if !walked.isEmpty {
                clauses.append("k.name_prefix >= ?")
                arguments.append(Trigrams.sortPrefix(cursor.key))
            }
        }
        arguments.append(limit + 1)
        var rows = try db.fetchAll(sql: """
            SELECT c.* FROM \(source) WHERE \(clauses.joined(separator: " AND ")) ORDER BY \(order) LIMIT ?
            """, arguments: arguments).map { try $0.decode(ConnectionRow.self) }
        var next: String?
        if rows.count > limit {
            rows.removeLast()
            if let last = rows.last {
                next = Cursor(sort: sort.rawValue, key: sort == .name ? last.nameKey : last.connectedAt.iso8601, id: last.id).encoded
            }
        }
        return Page(connections: rows.map(\.summary), nextCursor: next)
    }
}
