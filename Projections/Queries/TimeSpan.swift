import CredlogEvents
/// A span of time as people type it: `7d`, `12h`, `30m`, `45s`.
public struct TimeSpan: Sendable, Equatable, CustomStringConvertible {
    public var microseconds: Int64

    public init(days: Int64) { microseconds = days * 86_400_000_000 }

    public init(seconds: Int64) { microseconds = seconds * 1_000_000 }

    public init?(_ text: String) {
        guard let unit = text.last, let count = Int64(text.dropLast()), count >= 0, count <= 100_000 else { return nil }
        let seconds: Int64
        switch unit {
        case "d": seconds = 86_400
        case "h": seconds = 3_600
        case "m": seconds = 60
        case "s": seconds = 1
        default: return nil
        }
        microseconds = count * seconds * 1_000_000
    }

    /// The span in the largest whole unit: `7d`, `15m`.
    public var description: String {
        let seconds = microseconds / 1_000_000
        for (unit, size) in [("d", Int64(86_400)), ("h", 3_600), ("m", 60)] where seconds > 0 && seconds % size == 0 {
            return "\(seconds / size)\(unit)"
        }
        return "\(seconds)s"
    }

    /// The span as a `Duration`.
    public var duration: Duration { .microseconds(microseconds) }
}
