import CredlogDomain
import CredlogEvents

/// A status is stored as its raw value (`active`, `inactive`, `deleted`).
extension StatusName: SQLBindable, SQLReadable {
    public var sqlValue: SQLValue { .text(rawValue) }

    public init?(sqlValue: SQLValue) {
        guard case .text(let text) = sqlValue else { return nil }
        self.init(rawValue: text)
    }
}
