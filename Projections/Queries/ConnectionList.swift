import CredlogDomain
import Foundation
import GRDB

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

    /// A term found in at least this share of a sample of names is "frequent": walking the sort
    /// index and testing each name fills a page sooner than sorting every trigram match.
    /// Both plans give the same rows (0 always walks, above 1 never does).
    public var frequentTermShare = 0.01

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
        public var connections: [ConnectionRow]
        /// Pass as `after` for the next page; `nil` on the last page.
        public var nextCursor: String?
    }

    /// The share of names containing `term` among the first 2,000 rows of the table (insertion order:
    /// a cheap sample, unbiased by the name sort).
    static func share(of term: String, _ db: Database) throws -> Double {
        let row = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT COUNT(*), SUM(instr(name_key, ?) > 0) FROM (SELECT name_key FROM connections ORDER BY rowid LIMIT 2000)
            """), arguments: [term])
        let sampled: Int = row?[0] ?? 0
        let matching: Int = row?[1] ?? 0
        return sampled == 0 ? 0 : Double(matching) / Double(sampled)
    }

    /// Text as one quoted FTS5 phrase, so that no character is an operator.
    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// The (at most) two trigrams of `term` found in the fewest names; `nil` when one is not in the
    /// index as written (the whole term then goes to FTS5, which folds it as it folded the names).
    static func rarestTrigrams(of term: String, _ db: Database) throws -> [String]? {
        let scalars = Array(term.unicodeScalars)
        let trigrams = Set((0...(scalars.count - 3)).map { String(String.UnicodeScalarView(scalars[$0..<$0 + 3])) })
        let count = try db.cachedStatement(sql: "SELECT doc FROM connections_search_vocab WHERE term = ?")
        var counted: [(trigram: String, names: Int)] = []
        for trigram in trigrams {
            let names = try Int.fetchOne(count, arguments: [trigram]) ?? 0
            if names == 0 { return nil }
            counted.append((trigram, names))
        }
        return counted.sorted { ($0.names, $0.trigram) < ($1.names, $1.trigram) }.prefix(2).map(\.trigram)
    }

    /// Where a page ends: the sort key and id of its last row.
    struct Cursor: Codable {
        var sort: String
        var key: String
        var id: String

        var encoded: String {
            let json = (try? JSONEncoder().encode(self)) ?? Data()
            return json.base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }

        init(sort: String, key: String, id: String) {
            self.sort = sort
            self.key = key
            self.id = id
        }

        init(decoding text: String, for sort: Sort) throws(DomainError) {
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


    public func fetch(_ db: Database) throws -> Page {
        guard (1...Self.maxLimit).contains(limit) else { throw DomainError.invalid("the limit is 1 to \(Self.maxLimit)") }
        var clauses = ["project_id = ?"]
        var arguments: StatementArguments = [projectId]
        if status != .all {
            clauses.append("status = ?")
            arguments += [status.rawValue]
        }
        if let term = search?.trimmingCharacters(in: .whitespacesAndNewlines).lowercased(), !term.isEmpty {
            let frequent = try term.unicodeScalars.count < 3 || Self.share(of: term, db) >= frequentTermShare
            if frequent {
                // Walk the index in sort order and stop at a full page (also for terms too short for trigrams).
                clauses.append("instr(name_key, ?) > 0")
                arguments += [term]
            } else {
                // Few matches: candidates from the trigram index, read through the term's two rarest
                // trigrams only (a common trigram's list is long), then checked for the whole term.
                let rarest = try Self.rarestTrigrams(of: term, db) ?? [term]
                clauses.append("rowid IN (SELECT rowid FROM connections_search WHERE connections_search MATCH ?)")
                arguments += [rarest.map(Self.quoted).joined(separator: " AND ")]
                clauses.append("instr(name_key, ?) > 0")
                arguments += [term]
            }
        }
        let order: String
        switch sort {
        case .name:
            order = "name_key, id"
            if let after {
                let cursor = try Cursor(decoding: after, for: sort)
                clauses.append("(name_key > ? OR (name_key = ? AND id > ?))")
                arguments += [cursor.key, cursor.key, cursor.id]
            }
        case .connectedOn:
            order = "connected_at DESC, id DESC"
            if let after {
                let cursor = try Cursor(decoding: after, for: sort)
                clauses.append("(connected_at < ? OR (connected_at = ? AND id < ?))")
                arguments += [cursor.key, cursor.key, cursor.id]
            }
        }
        arguments += [limit + 1]
        var rows = try ConnectionRow.fetchAll(db, sql: """
            SELECT \(ConnectionRow.columns) FROM connections WHERE \(clauses.joined(separator: " AND ")) ORDER BY \(order) LIMIT ?
            """, arguments: arguments)
        var next: String?
        if rows.count > limit {
            rows.removeLast()
            if let last = rows.last {
                next = Cursor(sort: sort.rawValue, key: sort == .name ? last.nameKey : last.connectedAt, id: last.id).encoded
            }
        }
        return Page(connections: rows, nextCursor: next)
    }
}
