import CredlogDomain
import GRDB

/// A status is stored as its raw value (`active`, `inactive`, `deleted`).
extension StatusName: DatabaseValueConvertible {}
