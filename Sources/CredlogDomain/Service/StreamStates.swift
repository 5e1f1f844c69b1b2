import CredlogEvents
import Synchronization

/// The folded states of the streams this process used lately, each with the version it was
/// folded to: what a command decides from without reading its streams again.
///
/// A cached state is never trusted alone. A command decided from one appends with the cached
/// version as its expected version and the project's cached version as a read condition
/// (``AppendRequest/unchangedStreams``), both checked inside the write transaction; if any
/// stream moved (another process, another server) the append fails with a conflict, the
/// entries are dropped and the command is decided again from the database. A refusal decided
/// from a cached state is confirmed against the database before it is returned.
///
/// Bounded: two generations of at most `capacity / 2` entries each; a full young generation
/// becomes the old one and the oldest is dropped. A hit in the old generation moves back to the
/// young one, so the streams in use stay.
final class StreamStates: Sendable {
    enum State: Sendable {
        case connection(ConnectionState)
        case project(ProjectState)
    }

    struct Entry: Sendable {
        var state: State
        var version: Int64
    }

    private struct Generations {
        var young: [StreamID: Entry] = [:]
        var old: [StreamID: Entry] = [:]
    }

    private let generations = Mutex(Generations())
    let capacity: Int

    init(capacity: Int = 8_192) {
        self.capacity = max(2, capacity)
    }

    /// The state of `stream` and its version, if cached.
    func entry(_ stream: StreamID) -> Entry? {
        generations.withLock { generations in
            if let entry = generations.young[stream] { return entry }
            guard let entry = generations.old.removeValue(forKey: stream) else { return nil }
            Self.insert(entry, for: stream, into: &generations, capacity: capacity)
            return entry
        }
    }

    func connection(_ id: String) -> (state: ConnectionState, version: Int64)? {
        guard let entry = entry(.connection(id)), case .connection(let state) = entry.state else { return nil }
        return (state, entry.version)
    }

    func project(_ id: String) -> (state: ProjectState, version: Int64)? {
        guard let entry = entry(.project(id)), case .project(let state) = entry.state else { return nil }
        return (state, entry.version)
    }

    /// Keeps `state` as the fold of the first `version` events of `stream`, unless a later
    /// version is kept already (two tasks may fold the same stream at once).
    func keep(_ state: State, version: Int64, for stream: StreamID) {
        generations.withLock { generations in
            if let kept = generations.young[stream] ?? generations.old[stream], kept.version > version { return }
            Self.insert(Entry(state: state, version: version), for: stream, into: &generations, capacity: capacity)
        }
    }

    /// Forgets `streams` (after a conflict, or a failure that leaves their versions unknown).
    func forget(_ streams: [StreamID]) {
        generations.withLock { generations in
            for stream in streams {
                generations.young.removeValue(forKey: stream)
                generations.old.removeValue(forKey: stream)
            }
        }
    }

    var count: Int { generations.withLock { $0.young.count + $0.old.count } }

    private static func insert(_ entry: Entry, for stream: StreamID, into generations: inout Generations, capacity: Int) {
        if generations.young[stream] == nil, generations.young.count >= capacity / 2 {
            generations.old = generations.young
            generations.young = [:]
        }
        generations.old.removeValue(forKey: stream)
        generations.young[stream] = entry
    }
}
