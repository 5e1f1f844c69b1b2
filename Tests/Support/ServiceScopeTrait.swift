import CredlogEvents
import Testing

/// Runs each test of a suite in its own ``ServiceScope``: the PostgreSQL databases it opens run
/// their connection pools there, and stop when the test ends.
public struct ServiceScopeTrait: SuiteTrait, TestTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void)
        async throws {
        guard testCase != nil || !test.isSuite else { return try await function() }
        try await ServiceScope.run { try await function() }
    }
}

extension Trait where Self == ServiceScopeTrait {
    /// Each test in a ``ServiceScope`` of its own.
    public static var serviceScope: Self { ServiceScopeTrait() }
}
