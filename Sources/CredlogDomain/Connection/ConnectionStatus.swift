import CredlogEvents

/// Whether a connection works. The one place that says which events change a connection's
/// status: the connection's fold, every projection, the webhook feed and time travel ask it.
public enum ConnectionStatus: Sendable, Equatable {
    case active
    case inactive(InactiveReason)

    public var isActive: Bool { self == .active }

    /// How the status is stored and filtered on.
    public var name: StatusName { isActive ? .active : .inactive }

    /// Why it is inactive, as people read it (`expired: token expired`); `nil` when active.
    public var reasonText: String? {
        if case .inactive(let why) = self { why.description } else { nil }
    }

    /// The status `event` gives a connection, or `nil` when the event leaves its status as it is.
    public static func set(by event: ConnectionEvent) -> ConnectionStatus? {
        switch event {
        case .created, .reconnected: .active
        case .expired(let expired): .inactive(InactiveReason(kind: .expired, reason: expired.reason))
        case .revoked(let revoked): .inactive(InactiveReason(kind: .revoked, reason: revoked.reason))
        case .renamed, .deleted, .attachedToFlow, .detachedFromFlow, .tokenRefreshed, .credentialsResealed, .expiryWarned, .checked: nil
        }
    }
}

/// Why a connection stopped working.
public struct InactiveReason: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable { case expired, revoked }
    public var kind: Kind
    public var reason: String

    public init(kind: Kind, reason: String) {
        self.kind = kind
        self.reason = reason
    }

    /// `kind: reason`, such as `expired: token expired`.
    public var description: String { "\(kind.rawValue): \(reason)" }
}

/// A status as read models store it (the raw value is the column's text) and reports show it.
public enum StatusName: String, Sendable, Codable, CaseIterable {
    case active, inactive, deleted

    /// `Active`, `Inactive` or `Deleted`.
    public var title: String { rawValue.prefix(1).uppercased() + rawValue.dropFirst() }
}

/// A change of status that an event makes: what the status history records and the webhook feed
/// announces.
public struct StatusTransition: Sendable, Equatable {
    /// `nil` for the creation.
    public var from: StatusName?
    public var to: StatusName
    /// `kind: reason` when it becomes inactive, `reconnected` when it recovers, `nil` otherwise.
    public var reason: String?

    /// The transition `event` makes from `previous`, or `nil` when the status stays (a rename, a
    /// flow, a refresh, reconnecting an active connection).
    public init?(from previous: StatusName?, by event: ConnectionEvent) {
        if case .deleted = event {
            self.init(from: previous, to: .deleted, reason: nil)
            return
        }
        switch ConnectionStatus.set(by: event) {
        case nil: return nil
        case .inactive(let why)?: self.init(from: previous, to: .inactive, reason: why.description)
        case .active?:
            if case .created = event {
                self.init(from: previous, to: .active, reason: nil)
            } else {
                guard previous == .inactive else { return nil }
                self.init(from: previous, to: .active, reason: "reconnected")
            }
        }
    }

    /// Whether `event` can change a status at all (whatever the status before it).
    public static func mayChange(by event: ConnectionEvent) -> Bool {
        if case .deleted = event { return true }
        return ConnectionStatus.set(by: event) != nil
    }

    public init(from: StatusName?, to: StatusName, reason: String?) {
        self.from = from
        self.to = to
        self.reason = reason
    }
}
