import CredlogDomain
import CredlogEvents

/// Why a flow run may have failed at a moment: every connection the flow was using then,
/// the state of each at that moment, the events around it, and a plain verdict.
public struct FlowDiagnosis: Sendable, Encodable {
    public var flowId: String
    public var at: String
    public var windowSeconds: Int64
    public var connections: [ConnectionDiagnosis]
    public var verdict: String
}

public struct ConnectionDiagnosis: Sendable, Encodable {
    public var connectionId: String
    public var name: String
    public var piece: String
    /// `Active`, `Inactive` or `Deleted` at the moment.
    public var status: String
    public var statusReason: String?
    public var statusSince: String
    public var statusChangedBy: String
    public var credentialFingerprint: String
    public var credentialSetAt: String
    /// `created`, `reconnected` or `refreshed`.
    public var credentialSource: String
    public var credentialExpiresAt: String?
    /// The first reconnect after the moment, if any.
    public var reconnectedAt: String?
    public var reconnectedBy: String?
    /// The connection's events in the window around the moment.
    public var events: [EventLine]
    public var verdict: String

    public struct EventLine: Sendable, Encodable {
        public var position: Int64
        public var at: String
        public var type: String
        public var actor: String
        public var detail: String
    }
}

/// Answers "what state were this flow's connections in when its run failed at TIME?".
public struct FlowDebugger: Sendable {
    let store: any EventStore
    let database: any SQLDatabase

    public init(store: any EventStore, database: any SQLDatabase) {
        self.store = store
        self.database = database
    }

    /// - Parameters:
    ///   - window: how far before and after `time` to list events.
    ///   - visibleProjects: the projects the caller may see (`nil` for all).
    public func diagnose(flow flowId: String, at time: Timestamp, window: Duration = .seconds(7200),
                         visibleProjects: [String]?) async throws -> FlowDiagnosis {
        let uses = try await database.read { db in
            try FlowUsageQuery.connections(usedByFlow: flowId, at: time.iso8601, projects: visibleProjects, db)
        }
        let windowMicros = window.components.seconds * 1_000_000
        var diagnoses: [ConnectionDiagnosis] = []
        for use in uses {
            let events = try await store.readStream(.connection(use.connectionId), from: 1)
            guard let snapshot = try ConnectionSnapshot.fold(events, upTo: .time(time)),
                  let connection = snapshot.state.connection else { continue }
            let later = events.filter { $0.recordedAt > time }
            let reconnect = later.first { $0.type == ConnectionEvent.TypeName.reconnected }
            let nearby = try events.filter { abs($0.recordedAt.microseconds - time.microseconds) <= windowMicros }.map {
                ConnectionDiagnosis.EventLine(position: $0.position, at: $0.recordedAt.iso8601, type: $0.type, actor: $0.actor.id,
                                              detail: EventSummary.text(EventSummary.fields(of: try ProjectedEvent($0))))
            }
            var diagnosis = ConnectionDiagnosis(
                connectionId: connection.id, name: connection.name, piece: connection.piece, status: snapshot.statusName,
                statusReason: connection.status.reasonText, statusSince: snapshot.statusSince.iso8601, statusChangedBy: snapshot.statusChangedBy.id,
                credentialFingerprint: connection.credentials.fingerprint, credentialSetAt: snapshot.credentialSetAt.iso8601,
                credentialSource: snapshot.credentialSource, credentialExpiresAt: connection.credentials.expiresAt, reconnectedAt: reconnect?.recordedAt.iso8601,
                reconnectedBy: reconnect?.actor.id, events: nearby, verdict: "")
            diagnosis.verdict = Self.verdict(diagnosis, snapshot: snapshot, at: time, reconnect: reconnect)
            diagnoses.append(diagnosis)
        }
        return FlowDiagnosis(flowId: flowId, at: time.iso8601, windowSeconds: window.components.seconds,
                             connections: diagnoses, verdict: Self.overall(flowId, diagnoses, at: time))
    }

    static func verdict(_ d: ConnectionDiagnosis, snapshot: ConnectionSnapshot, at time: Timestamp, reconnect: RecordedEvent?) -> String {
        let name = "\(d.name) (\(d.piece))"
        switch snapshot.state.statusName {
        case .deleted?:
            return "\(name) had been deleted at \(clock(snapshot.statusSince, near: time)) by \(d.statusChangedBy)"
        case .inactive?:
            var text = "\(name) was Inactive since \(clock(snapshot.statusSince, near: time)) (\(d.statusReason ?? "no reason"))"
            if let reconnect {
                text += "; reconnected at \(clock(reconnect.recordedAt, near: time)) by \(reconnect.actor.id)"
            } else {
                text += "; not reconnected since"
            }
            return text
        default:
            let how = d.credentialSource == "refreshed" ? "refreshed" : "set"
            var text = "\(name) was Active (credential \(d.credentialFingerprint) \(how) at \(clock(snapshot.credentialSetAt, near: time)))"
            if let expiry = d.credentialExpiresAt.flatMap(Timestamp.init(iso8601:)), expiry <= time {
                text += ", but its token had expired at \(clock(expiry, near: time))"
            }
            return text
        }
    }

    static func overall(_ flowId: String, _ diagnoses: [ConnectionDiagnosis], at time: Timestamp) -> String {
        if diagnoses.isEmpty { return "flow \(flowId) was using no connection at \(time.iso8601)" }
        let broken = diagnoses.filter { $0.status != StatusName.active.title || $0.verdict.contains("had expired") }
        if broken.isEmpty {
            return "every connection of flow \(flowId) was Active at \(clock(time, near: time)): the failure is probably not a credential problem"
        }
        return broken.map(\.verdict).joined(separator: "\n")
    }

    /// `HH:MM` when on the same UTC day as `reference`, else `YYYY-MM-DD HH:MM` (UTC).
    static func clock(_ time: Timestamp, near reference: Timestamp) -> String {
        let text = time.iso8601
        let sameDay = text.prefix(10) == reference.iso8601.prefix(10)
        let hm = String(text.dropFirst(11).prefix(5))
        return sameDay ? hm : "\(text.prefix(10)) \(hm)"
    }
}
