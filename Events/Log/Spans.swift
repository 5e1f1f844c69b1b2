import Tracing

/// Runs `body` under a span named `name` when `credlog serve` exports traces, and without one
/// otherwise: with no tracer bootstrapped, even a no-op span's task-local context costs a command
/// thousands of instructions (`scripts/profile`). `body` gets the span to add attributes to.
public func withSpanWhenTracing<T>(_ name: String, ofKind kind: SpanKind = .internal,
                                   _ body: ((any Span)?) async throws -> T) async throws -> T {
    guard !(InstrumentationSystem.tracer is NoOpTracer) else { return try await body(nil) }
    return try await withSpan(name, ofKind: kind) { span in try await body(span) }
}
