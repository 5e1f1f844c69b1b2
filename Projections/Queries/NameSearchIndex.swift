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

    /// The ids of the project's connections whose name key contains `term` (folded, at least three
    /// Unicode scalars), in no particular order; `nil` when more than `cap` do (a frequent term:
    /// walking the name index finds a page of them sooner).
    func matches(of term: String, in projectId: String, cap: Int, _ db: any SQLSession) throws -> [String]? {
        let names = try current(projectId, db)
        let termTrigrams = Trigram.all(of: term)
        guard !termTrigrams.isEmpty else { return nil }
        var rarest: [Int32]?
        for trigram in termTrigrams {
            guard let slots = names.postings[trigram] else { return [] }
            if slots.count < rarest?.count ?? .max { rarest = slots }
        }
        var found: [String] = []
        for slot in rarest ?? [] {
            guard let key = names.keys[Int(slot)], Self.contains(key, term) else { continue }
            if found.count == cap { return nil }
            found.append(names.ids[Int(slot)])
        }
        return found
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
            if seen == checkpoint, let loaded { return loaded }
            // Another search saw a later snapshot: this one answers from its own.
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
/// key has it, in ascending order (4 bytes a slot: about 26 per name of 28 characters).
struct ProjectNames: Sendable {
    var slots: [String: Int32] = [:]
    var ids: [String] = []
    /// Each slot's name key; `nil` for a free slot.
    var keys: [String?] = []
    var free: [Int32] = []
    var postings: [UInt64: [Int32]] = [:]

    /// The project's names as the table holds them in the snapshot `db` reads.
    static func load(_ projectId: String, _ db: any SQLSession) throws -> ProjectNames {
        var names = ProjectNames()
        for row in try db.fetchAll(sql: "SELECT id, name_key FROM connections WHERE project_id = ?", arguments: [projectId]) {
            names.set(try row[0] as String, key: try row[1] as String)
        }
        return names
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
        postings[trigram, default: []].insertSorted(slot)
    }

    private mutating func remove(_ slot: Int32, from trigram: UInt64) {
        postings[trigram]?.removeSorted(slot)
        if postings[trigram]?.isEmpty == true { postings[trigram] = nil }
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

extension Array where Element == Int32 {
    /// Where `value` is, or where it would go, in this ascending array.
    fileprivate func sortedIndex(of value: Int32) -> Int {
        var (low, high) = (0, count)
        while low < high {
            let middle = (low + high) / 2
            if self[middle] < value { low = middle + 1 } else { high = middle }
        }
        return low
    }

    fileprivate mutating func insertSorted(_ value: Int32) {
        let index = sortedIndex(of: value)
        if index == count || self[index] != value { insert(value, at: index) }
    }

    fileprivate mutating func removeSorted(_ value: Int32) {
        let index = sortedIndex(of: value)
        if index < count, self[index] == value { remove(at: index) }
    }
}
