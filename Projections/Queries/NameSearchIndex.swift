import CredlogEvents
import Foundation
import Synchronization

/// Which of a project's connections have a name containing a term: a trigram index over the
/// `connections` table's name keys, held in memory by the process that answers lists (the server
/// keeps one for its life; a CLI run builds one for the project it lists).
///
/// It is a cache, never written to the database: a command and a rebuild pay nothing for it.
/// Before each search it catches up, inside the query's own snapshot, with the connections
/// projection's checkpoint: it reads only the connections whose events came since it last looked
/// (on PostgreSQL, whichever server appended them), and starts over when the table was rebuilt.
public final class NameSearchIndex: Sendable {
    /// How many events since the last look are read as changes; beyond, the index starts over.
    let maxCatchUp: Int64

    private let state = Mutex(State())

    public init(maxCatchUp: Int64 = 20_000) { self.maxCatchUp = maxCatchUp }

    private struct State {
        /// The connections projection's checkpoint that `projects` reflect (-1: nothing yet).
        var checkpoint: Int64 = -1
        var projects: [String: ProjectNames] = [:]
    }

    /// The project's names that contain `term` (folded), as of the snapshot `db` reads; `nil`
    /// when the term is shorter than a trigram.
    func matches(of term: String, in projectId: String, _ db: any SQLSession) throws -> NameMatches? {
        let termTrigrams = Trigram.all(of: term)
        guard !termTrigrams.isEmpty else { return nil }
        let names = try current(projectId, db)
        var rarest: [Int32]?
        for trigram in termTrigrams {
            let slots = names.postings[trigram] ?? []
            if slots.count < rarest?.count ?? .max { rarest = slots }
        }
        return NameMatches(names: names, candidates: rarest ?? [], term: term)
    }

    /// Whether `text` contains `term`, byte for byte in UTF-8: what SQLite's `instr` and
    /// PostgreSQL's `position` answer (both are valid UTF-8, so a match starts on a scalar).
    static func contains(_ text: String, _ term: String) -> Bool {
        var text = text
        var term = term
        return text.withUTF8 { haystack in
            term.withUTF8 { needle in
                guard let first = needle.first, needle.count <= haystack.count else { return needle.isEmpty }
                var start = 0
                let last = haystack.count - needle.count
                while start <= last {
                    if haystack[start] == first, memcmp(haystack.baseAddress! + start, needle.baseAddress!, needle.count) == 0 { return true }
                    start += 1
                }
                return false
            }
        }
    }

    /// The project's names as of the snapshot `db` reads, caught up or loaded as needed. A
    /// search gets a copy (copy-on-write: shared until the index next changes).
    private func current(_ projectId: String, _ db: any SQLSession) throws -> ProjectNames {
        let checkpoint: Int64 = try db.fetchValue(sql: "SELECT position FROM projection_checkpoints WHERE name = 'connections'") ?? 0
        while true {
            let (seen, loaded) = state.withLock { ($0.checkpoint, $0.projects[projectId]) }
            // Another search may have caught up with a later snapshot than this one's. Every row is
            // fetched and tested again in this snapshot, so a page never holds a row that does not
            // match it; what differs is only a connection created, renamed or deleted by a write
            // that committed while this search ran: it is left out, as if the search came first
            // (for a creation) or after (for a rename or a deletion).
            if seen >= checkpoint, let loaded { return loaded }
            if seen > checkpoint { return try ProjectNames.load(projectId, db) }
            let changes = seen >= 0 && checkpoint - seen <= maxCatchUp ? try Self.changes(after: seen, upTo: checkpoint, db) : nil
            let fresh = loaded == nil || changes == nil ? try ProjectNames.load(projectId, db) : nil
            let names: ProjectNames? = state.withLock { state in
                guard state.checkpoint == seen else { return nil }  // moved meanwhile: look again
                if let changes {
                    for (id, row) in changes {
                        if let project = row?.project ?? state.projects.first(where: { $0.value.slots[id] != nil })?.key {
                            state.projects[project]?.set(id, key: row?.key)
                        }
                    }
                } else {
                    state.projects = [:]
                }
                if let fresh { state.projects[projectId] = fresh }
                state.checkpoint = checkpoint
                return state.projects[projectId]
            }
            if let names { return names }
        }
    }

    /// The connections whose events are in `(after, upTo]`, each with its project and name key
    /// now (`nil`: deleted, or not in the table).
    private static func changes(after: Int64, upTo: Int64, _ db: any SQLSession) throws -> [String: (project: String, key: String)?] {
        let streams = try db.fetchAll(sql: "SELECT DISTINCT stream_id FROM events WHERE position > ? AND position <= ?",
                                      arguments: [after, upTo])
        let ids = try streams.compactMap { StreamID(try $0[0] as String).connectionId }
        var changes = [String: (project: String, key: String)?](uniqueKeysWithValues: ids.map { ($0, nil) })
        for row in try db.fetchAll(forEach: ids, sql: { "SELECT id, project_id, name_key FROM connections WHERE id IN (\($0))" }) {
            changes[try row[0] as String] = (try row[1] as String, try row[2] as String)
        }
        return changes
    }
}

/// One project's names: each connection in a slot, and for each trigram the slots whose name
/// key has it, in name order (name key, then id, byte by byte: the list's order on both
/// backends), 4 bytes a slot: about 26 slots for a name of 28 characters.
struct ProjectNames: Sendable {
    var slots: [String: Int32] = [:]
    var ids: [String] = []
    /// Each slot's name key; `nil` for a free slot.
    var keys: [String?] = []
    var free: [Int32] = []
    var postings: [UInt64: [Int32]] = [:]

    /// The project's names as the table holds them in the snapshot `db` reads, read in pages of
    /// 4,096 (the rows read at once stay few). They come in name order, so each trigram's slots
    /// are appended already in order.
    static func load(_ projectId: String, _ db: any SQLSession) throws -> ProjectNames {
        var names = ProjectNames()
        var last: (key: String, id: String)?
        while true {
            let after = last.map { _ in " AND (name_key > ? OR (name_key = ? AND id > ?))" } ?? ""
            let arguments: SQLArguments = last.map { [projectId, $0.key, $0.key, $0.id, 4_096] } ?? [projectId, 4_096]
            let rows = try db.fetchAll(sql: "SELECT id, name_key FROM connections WHERE project_id = ?\(after) ORDER BY name_key, id LIMIT ?",
                                       arguments: arguments)
            for row in rows {
                let (id, key) = (try row[0] as String, try row[1] as String)
                names.set(id, key: key)
                last = (key, id)
            }
            if rows.count < 4_096 { return names }
        }
    }

    /// Sets a connection's name key (`nil`: it is gone).
    mutating func set(_ id: String, key: String?) {
        if let slot = slots[id] {
            guard keys[Int(slot)] != key else { return }
            for trigram in Trigram.all(of: keys[Int(slot)] ?? "") { remove(slot, from: trigram) }
            if let key {
                keys[Int(slot)] = key
                for trigram in Trigram.all(of: key) { insert(slot, into: trigram) }
            } else {
                keys[Int(slot)] = nil
                slots[id] = nil
                free.append(slot)
            }
        } else if let key {
            let slot: Int32
            if let reused = free.popLast() {
                slot = reused
                ids[Int(slot)] = id
                keys[Int(slot)] = key
            } else {
                slot = Int32(ids.count)
                ids.append(id)
                keys.append(key)
            }
            slots[id] = slot
            for trigram in Trigram.all(of: key) { insert(slot, into: trigram) }
        }
    }

    private mutating func insert(_ slot: Int32, into trigram: UInt64) {
        let key = (keys[Int(slot)] ?? "", ids[Int(slot)])
        var slots = postings.removeValue(forKey: trigram) ?? []
        let index = slots.isEmpty || precedes(slots[slots.count - 1], key) ? slots.count : firstIndex(in: slots, notBefore: key)
        slots.insert(slot, at: index)
        postings[trigram] = slots
    }

    /// Removes the slot while its key is still the one it was inserted under.
    private mutating func remove(_ slot: Int32, from trigram: UInt64) {
        guard var slots = postings.removeValue(forKey: trigram) else { return }
        let index = firstIndex(in: slots, notBefore: (keys[Int(slot)] ?? "", ids[Int(slot)]))
        if index < slots.count, slots[index] == slot { slots.remove(at: index) }
        if !slots.isEmpty { postings[trigram] = slots }
    }

    /// The first of `slots` (in name order) that does not come before `key` (a name key and id).
    func firstIndex(in slots: [Int32], notBefore key: (name: String, id: String)) -> Int {
        var (low, high) = (0, slots.count)
        while low < high {
            let middle = (low + high) / 2
            if precedes(slots[middle], key) { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Whether the slot's name key and id come before `key`, byte by byte.
    func precedes(_ slot: Int32, _ key: (name: String, id: String)) -> Bool {
        let name = keys[Int(slot)] ?? ""
        if name != key.name { return name.utf8.lexicographicallyPrecedes(key.name.utf8) }
        return ids[Int(slot)].utf8.lexicographicallyPrecedes(key.id.utf8)
    }
}

/// A term's matches in one project: the candidates are its rarest trigram's slots, in name
/// order; a candidate matches when its name key contains the whole term.
struct NameMatches {
    let names: ProjectNames
    let candidates: [Int32]
    let term: String

    /// Where the matches after `key` (a page's last name key and id) begin among the candidates.
    func start(after key: (name: String, id: String)) -> Int {
        var index = names.firstIndex(in: candidates, notBefore: key)
        if index < candidates.count, names.keys[Int(candidates[index])] == key.name, names.ids[Int(candidates[index])] == key.id {
            index += 1
        }
        return index
    }

    /// Up to `count` matching ids in name order, from the candidate at `start`; and where the
    /// next ones begin.
    func ids(from start: Int, count: Int) -> (ids: [String], next: Int) {
        var found: [String] = []
        var index = start
        while index < candidates.count, found.count < count {
            let slot = Int(candidates[index])
            if let key = names.keys[slot], NameSearchIndex.contains(key, term) { found.append(names.ids[slot]) }
            index += 1
        }
        return (found, index)
    }

    /// Every matching id, or `nil` when more than `cap` match.
    func all(cap: Int) -> [String]? {
        let found = ids(from: 0, count: cap + 1).ids
        return found.count > cap ? nil : found
    }
}

/// Three consecutive Unicode scalars of a folded name, packed in 63 bits (21 bits each).
enum Trigram {
    /// The distinct trigrams of `text`.
    static func all(of text: String) -> Set<UInt64> {
        var trigrams = Set<UInt64>()
        var window: UInt64 = 0
        var count = 0
        for scalar in text.unicodeScalars {
            window = (window << 21 | UInt64(scalar.value)) & (1 << 63 - 1)
            count += 1
            if count >= 3 { trigrams.insert(window) }
        }
        return trigrams
    }
}
