import Synchronization

/// A value shared between a test and the tasks it starts (a `Mutex` in a class, so that
/// escaping closures can capture it).
public final class Shared<Value: Sendable>: Sendable {
    private let value: Mutex<Value>

    public init(_ value: Value) { self.value = Mutex(value) }

    /// The value now.
    public var current: Value { value.withLock { $0 } }

    /// Changes the value; returns what `change` returns.
    @discardableResult
    public func update<Result: Sendable>(_ change: (inout Value) -> Result) -> Result { value.withLock { change(&$0) } }
}
