/// Runs inside the append transaction, after the events are written and before the commit:
/// whatever it writes commits or rolls back with them.
public protocol AppendObserver: Sendable {
    func didAppend(_ events: [RecordedEvent], in db: any SQLSession) throws
}
