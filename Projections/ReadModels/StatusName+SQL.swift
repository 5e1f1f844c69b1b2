import CredlogDomain
import CredlogEvents
import GRDB

/// A status is stored as its raw value (`active`, `inactive`, `deleted`).
extension StatusName: SQLBindable, SQLReadable, DatabaseValueConvertible {
    public var sqlValue: SQLValue { .text(rawValue) }

    public init?(sqlValue: SQLValue) {
        guard case .text(let text) = sqlValue else { return nil }
        self.init(rawValue: text)
    }
}
