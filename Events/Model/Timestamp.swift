import Foundation

/// A UTC instant with microsecond precision, stored as ISO 8601 text
/// (`2026-11-21T10:05:00.000000Z`) so that text order is time order.
public struct Timestamp: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// Microseconds since 1970-01-01T00:00:00Z.
    public var microseconds: Int64

    public init(microseconds: Int64) { self.microseconds = microseconds }

    public init(_ date: Date) {
        microseconds = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
    }

    /// The current time.
    public static func now() -> Timestamp { Timestamp(Date()) }

    public var date: Date { Date(timeIntervalSince1970: Double(microseconds) / 1_000_000) }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.microseconds < rhs.microseconds }

    /// The instant `duration` later (to the microsecond), at most the last representable one:
    /// durations may come from outside (a token's lifetime) and must never trap.
    public static func + (time: Timestamp, duration: Duration) -> Timestamp {
        let (sum, overflow) = time.microseconds.addingReportingOverflow(duration.wholeMicroseconds)
        return Timestamp(microseconds: overflow ? (duration < .zero ? .min : .max) : sum)
    }

    /// The instant `duration` earlier (to the microsecond), saturating as ``+(_:_:)`` does.
    public static func - (time: Timestamp, duration: Duration) -> Timestamp {
        let (difference, overflow) = time.microseconds.subtractingReportingOverflow(duration.wholeMicroseconds)
        return Timestamp(microseconds: overflow ? (duration < .zero ? .max : .min) : difference)
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`: to the second (rounded down), for people to read.
    public var iso8601Seconds: String { String(iso8601.prefix(19)) + "Z" }

    /// `2 Nov 2026, 10:02 UTC`: to the minute (rounded down), for a page.
    public var readable: String {
        let iso = Array(iso8601.utf8)
        func number(_ range: Range<Int>) -> Int { iso[range].reduce(0) { $0 * 10 + Int($1) - 48 } }
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let minute = String(decoding: iso[11..<16], as: UTF8.self)
        return "\(number(8..<10)) \(months[number(5..<7) - 1]) \(String(decoding: iso[0..<4], as: UTF8.self)), \(minute) UTC"
    }

    /// `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
    public var iso8601: String {
        let seconds = microseconds.floorDiv(1_000_000)
        let fraction = microseconds - seconds * 1_000_000
        let days = seconds.floorDiv(86_400)
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = Self.civil(fromDays: days)
        return String(unsafeUninitializedCapacity: 27) { buffer in
            func put(_ value: Int64, _ width: Int, at offset: Int) {
                var value = value
                for index in stride(from: offset + width - 1, through: offset, by: -1) {
                    buffer[index] = UInt8(48 + value % 10)
                    value /= 10
                }
            }
            put(year, 4, at: 0); buffer[4] = 45
            put(month, 2, at: 5); buffer[7] = 45
            put(day, 2, at: 8); buffer[10] = 84
            put(secondOfDay / 3600, 2, at: 11); buffer[13] = 58
            put(secondOfDay / 60 % 60, 2, at: 14); buffer[16] = 58
            put(secondOfDay % 60, 2, at: 17); buffer[19] = 46
            put(fraction, 6, at: 20); buffer[26] = 90
            return 27
        }
    }

    public var description: String { iso8601 }

    /// Parses ISO 8601 in UTC or with an offset: `2026-11-21T10:05Z`, `2026-11-21T10:05:00.5+01:00`,
    /// or a bare date `2026-11-21` (midnight UTC). `nil` when malformed.
    public init?(iso8601 text: String) {
        if let canonical = Self.parseCanonical(text) {
            self = canonical
            return
        }
        let pattern = #/^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?$/#
        guard let match = text.wholeMatch(of: pattern) else { return nil }
        guard let year = Int64(match.1), let month = Int64(match.2), let day = Int64(match.3),
              (1...12).contains(month), (1...Self.daysIn(month, of: year)).contains(day) else { return nil }
        let hour = match.4.flatMap { Int64($0) } ?? 0
        let minute = match.5.flatMap { Int64($0) } ?? 0
        let second = match.6.flatMap { Int64($0) } ?? 0
        guard hour < 24, minute < 60, second < 61 else { return nil }
        var micros: Int64 = 0
        if let digits = match.7 {
            let six = String((digits + "000000").prefix(6))
            micros = Int64(six) ?? 0
        }
        var offsetSeconds: Int64 = 0
        if let zone = match.8, zone != "Z" {
            let sign: Int64 = zone.hasPrefix("-") ? -1 : 1
            let parts = zone.dropFirst().split(separator: ":")
            guard let offsetHours = Int64(parts[0]), let offsetMinutes = Int64(parts[1]), offsetHours <= 18, offsetMinutes < 60
            else { return nil }
            offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60)
        } else if match.4 != nil && match.8 == nil {
            return nil // a time without a zone is ambiguous
        }
        let days = Self.days(fromCivil: year, month, day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        microseconds = seconds * 1_000_000 + micros
    }

    /// Parses the UTF-8 bytes of an ISO 8601 time, as ``init(iso8601:)`` parses its text; the
    /// stored form is read without making a `String`.
    init?(iso8601UTF8 bytes: UnsafeBufferPointer<UInt8>) {
        guard let parsed = Self.parseCanonical(bytes) ?? Timestamp(iso8601: String(decoding: bytes, as: UTF8.self)) else { return nil }
        self = parsed
    }

    /// Fast path for the stored form `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
    private static func parseCanonical(_ text: String) -> Timestamp? {
        var text = text
        return text.withUTF8(parseCanonical)
    }

    private static func parseCanonical(_ bytes: UnsafeBufferPointer<UInt8>) -> Timestamp? {
        guard bytes.count == 27, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T"),
              bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"), bytes[19] == UInt8(ascii: "."),
              bytes[26] == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int64? {
            var value: Int64 = 0
            for index in range {
                let digit = bytes[index] &- UInt8(ascii: "0")
                guard digit < 10 else { return nil }
                value = value * 10 + Int64(digit)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10), let hour = number(11..<13),
              let minute = number(14..<16), let second = number(17..<19), let micros = number(20..<26),
              (1...12).contains(month), (1...daysIn(month, of: year)).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        let seconds = days(fromCivil: year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
        return Timestamp(microseconds: seconds * 1_000_000 + micros)
    }

    /// The days of `month` (1–12) in `year` (proleptic Gregorian): 2026-02-31 is no date, not March 3rd.
    static func daysIn(_ month: Int64, of year: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    // Howard Hinnant's civil-from-days algorithms (proleptic Gregorian calendar).
    private static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = z.floorDiv(146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func days(fromCivil y0: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let year = month <= 2 ? y0 - 1 : y0
        let era = year.floorDiv(400)
        let yoe = year - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let parsed = Timestamp(iso8601: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an ISO 8601 time"))
        }
        self = parsed
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(iso8601)
    }
}

extension Int64 {
    /// Division rounding towards negative infinity.
    fileprivate func floorDiv(_ divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}

extension Duration {
    /// The duration in whole microseconds (the precision of a ``Timestamp``), saturating at
    /// `Int64.min` and `Int64.max` (about ±292,000 years) instead of trapping.
    public var wholeMicroseconds: Int64 {
        let (seconds, attoseconds) = components
        let (micros, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000)
        guard !overflow else { return seconds < 0 ? .min : .max }
        let (total, overflowAgain) = micros.addingReportingOverflow(attoseconds / 1_000_000_000_000)
        return overflowAgain ? (seconds < 0 ? .min : .max) : total
    }
}
