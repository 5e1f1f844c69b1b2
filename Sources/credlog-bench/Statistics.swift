import Foundation

/// Medians and percentiles of measured samples.
enum Statistics {
    static func median(_ values: [Double]) -> Double { percentile(values, 0.5) }

    /// The value below which `fraction` of the samples fall (nearest rank).
    static func percentile(_ values: [Double], _ fraction: Double) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
    }

    /// Seconds elapsed while running `body`.
    static func time<T>(_ body: () async throws -> T) async rethrows -> (T, Double) {
        let clock = ContinuousClock()
        let start = clock.now
        let value = try await body()
        let elapsed = clock.now - start
        return (value, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
}
