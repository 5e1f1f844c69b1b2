import CredlogEvents
import Testing

@Suite("Timestamps")
struct TimestampTests {
    @Test(arguments: [
        ("2026-11-21T10:05:00Z", "2026-11-21T10:05:00.000000Z"),
        ("2026-11-21T10:05Z", "2026-11-21T10:05:00.000000Z"),
        ("2026-11-21T11:05:00.25+01:00", "2026-11-21T10:05:00.250000Z"),
        ("2026-11-21", "2026-11-21T00:00:00.000000Z"),
        ("1969-12-31T23:59:59.999999Z", "1969-12-31T23:59:59.999999Z"),
        ("2024-02-29T12:00:00Z", "2024-02-29T12:00:00.000000Z"),
    ])
    func parsesAndPrintsUTC(input: String, expected: String) throws {
        #expect(try #require(Timestamp(iso8601: input)).iso8601 == expected)
    }

    @Test(arguments: ["yesterday", "2026-13-01", "2026-11-21T10:05", "2026-11-21T25:00Z", "", "2026-02-31", "2026-02-29",
                      "2026-04-31T10:00Z", "2026-02-31T10:00:00.000000Z", "2026-11-21T10:05+99:00", "2026-11-21T10:05+01:75"])
    func refusesMalformedTimes(input: String) {
        #expect(Timestamp(iso8601: input) == nil)
    }

    @Test func textOrderIsTimeOrder() {
        let times = [0, 1, 999_999, 1_000_000, 86_400_000_000, 1_800_000_000_000_000].map { Timestamp(microseconds: Int64($0)) }
        #expect(times.map(\.iso8601) == times.map(\.iso8601).sorted())
        #expect(times.allSatisfy { Timestamp(iso8601: $0.iso8601) == $0 })
    }

    @Test func arithmeticWithDurationsFromOutsideSaturatesInsteadOfTrapping() {
        #expect(Duration.seconds(Int64.max).wholeMicroseconds == .max)
        #expect(Duration.seconds(Int64.min).wholeMicroseconds == .min)
        let now = Timestamp(microseconds: 1_800_000_000_000_000)
        #expect((now + .seconds(Int64.max)).microseconds == .max)
        #expect((Timestamp(microseconds: .min + 5) - .seconds(Int64.max)).microseconds == .min)
        #expect((Timestamp(microseconds: .max - 5) - .seconds(Int64.min)).microseconds == .max)
        #expect((now + .seconds(-60)).microseconds == now.microseconds - 60_000_000)
    }
}
