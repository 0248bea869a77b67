import Foundation
import GRDB

/// A day in the account's time zone: whole days since 1970-01-01 in that zone, so rollups and
/// indexes work on integers, not on dates. A type of its own so a day can't be mixed up with a
/// count, an id or milliseconds; stored as the integer (`DatabaseValueConvertible`) and written
/// to JSON as one.
public struct DayNumber: Hashable, Comparable, Strideable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: Int

    public init(_ rawValue: Int) { self.rawValue = rawValue }

    public static func < (a: DayNumber, b: DayNumber) -> Bool { a.rawValue < b.rawValue }
    public func distance(to other: DayNumber) -> Int { other.rawValue - rawValue }
    public func advanced(by n: Int) -> DayNumber { DayNumber(rawValue + n) }

    /// `n` days later or earlier.
    public static func + (day: DayNumber, n: Int) -> DayNumber { day.advanced(by: n) }
    public static func - (day: DayNumber, n: Int) -> DayNumber { day.advanced(by: -n) }
    /// The days from `b` to `a`.
    public static func - (a: DayNumber, b: DayNumber) -> Int { b.distance(to: a) }

    public var description: String { String(rawValue) }

    public init(from decoder: Decoder) throws { rawValue = try decoder.singleValueContainer().decode(Int.self) }
    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

extension DayNumber: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { rawValue.databaseValue }
    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> DayNumber? { Int.fromDatabaseValue(dbValue).map(DayNumber.init) }
}

/// Converts instants to the account's days and back. Days are "today and the 6 days before" in the
/// account's time zone, so the 7-day window moves at the account's midnight, not UTC's.
public struct AccountCalendar: Sendable {
    public let timeZone: TimeZone

    public init(timeZone: TimeZone) {
        self.timeZone = timeZone
    }

    /// The day that contains `millis` (milliseconds since the Unix epoch) in the account's zone.
    public func day(ofMillis millis: Int64) -> DayNumber {
        let seconds = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
        let offset = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(seconds))))
        let local = seconds + offset
        return DayNumber(Int((local >= 0 ? local : local - 86_399) / 86_400))
    }

    /// `YYYY-MM-DD` for a day number (calendar arithmetic, no time zone involved).
    public func string(for day: DayNumber) -> String {
        let date = Date(timeIntervalSince1970: TimeInterval(day.rawValue) * 86_400)
        let parts = Self.utc.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }

    /// Parses `YYYY-MM-DD`; nil when the text is not a real calendar date.
    /// Why `text` is no day, in a phrase for "--from …": nil when it is one (#27: 2026-02-30 was
    /// told it "must be a date written YYYY-MM-DD").
    public static func dayProblem(_ text: String) -> String? {
        let pieces = text.split(separator: "-", omittingEmptySubsequences: false)
        guard pieces.count == 3, pieces[0].count == 4, pieces[1].count == 2, pieces[2].count == 2,
            let y = Int(pieces[0]), let m = Int(pieces[1]), let d = Int(pieces[2]), y > 0
        else { return "must be a date written YYYY-MM-DD, not \(Display.quoted(text))" }
        guard (1...12).contains(m) else { return "\(Display.quoted(text)) is no day: there is no month \(m)" }
        var first = DateComponents()
        first.year = y
        first.month = m
        first.day = 1
        let length = Self.utc.date(from: first).flatMap { Self.utc.range(of: .day, in: .month, for: $0)?.count } ?? 31
        guard (1...length).contains(d) else {
            let month = [
                "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December",
            ][m - 1]
            return "\(Display.quoted(text)) is no day: \(month) \(y) has \(length) days"
        }
        return nil
    }

    public func parseDay(_ text: String) -> DayNumber? {
        let pieces = text.split(separator: "-", omittingEmptySubsequences: false)
        guard pieces.count == 3, pieces[0].count == 4, pieces[1].count == 2, pieces[2].count == 2,
            let y = Int(pieces[0]), let m = Int(pieces[1]), let d = Int(pieces[2]),
            (1...12).contains(m), (1...31).contains(d)
        else { return nil }
        var parts = DateComponents()
        parts.year = y
        parts.month = m
        parts.day = d
        guard let date = Self.utc.date(from: parts) else { return nil }
        let day = DayNumber(Int(floor(date.timeIntervalSince1970 / 86_400)))
        return string(for: day) == text ? day : nil
    }

    /// Local wall-clock time of an instant, ISO 8601 with the account's offset
    /// (`2026-11-25T09:30:00+01:00`, or `Z` at UTC). Plain arithmetic: a formatter per call cost
    /// more than the query behind a page of contacts.
    public func timestamp(ofMillis millis: Int64) -> String {
        let seconds = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
        let offset = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(seconds))))
        let local = seconds + offset
        let day = (local >= 0 ? local : local - 86_399) / 86_400
        let secondOfDay = local - day * 86_400
        let zone: String
        if offset == 0 {
            zone = "Z"
        } else {
            let minutes = abs(offset) / 60
            zone = String(format: "%@%02d:%02d", offset < 0 ? "-" : "+", minutes / 60, minutes % 60)
        }
        return string(for: DayNumber(Int(day)))
            + String(format: "T%02d:%02d:%02d", secondOfDay / 3600, secondOfDay / 60 % 60, secondOfDay % 60) + zone
    }

    /// The instant (milliseconds) of local midnight at the start of `day`.
    public func startMillis(of day: DayNumber) -> Int64 {
        let utcMidnight = Int64(day.rawValue) * 86_400
        var offset = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(utcMidnight))))
        // Once more at the guessed instant, which matters on days the offset changes.
        offset = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(utcMidnight - offset))))
        return (utcMidnight - offset) * 1000
    }

    /// The 7-day window ending today: today and the 6 days before.
    public func window(today: DayNumber) -> ClosedRange<DayNumber> {
        (today - 6)...today
    }

    private static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()
}

/// Where "now" comes from. Injected so the demo can lay down seven days of runs and tests can stand
/// at a chosen instant (a midnight in a non-UTC zone, say).
public protocol Clock: Sendable {
    func nowMillis() -> Int64
}

public struct SystemClock: Clock {
    public init() {}
    public func nowMillis() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
}

public struct FixedClock: Clock {
    public let millis: Int64
    public init(millis: Int64) { self.millis = millis }
    public func nowMillis() -> Int64 { millis }
}

/// `MESSENGER_DASH_NOW` (an ISO 8601 instant) pins the clock: scripted tests and `make test-dates`
/// stand every part of the product (the CLI, the dashboard, the demo, the sessions the tests drive)
/// at one chosen instant, so nothing depends on the day the suite runs.
public enum PinnedNow {
    public static let variable = "MESSENGER_DASH_NOW"

    /// The pinned instant in milliseconds, nil when the variable is unset or empty.
    public static func millis(_ environment: [String: String]) throws -> Int64? {
        guard let text = environment[variable], !text.isEmpty else { return nil }
        guard let date = ISO8601DateFormatter().date(from: text) else {
            throw DomainError("\(variable) must be an ISO 8601 time such as 2026-11-25T09:00:00Z, not \(Display.quoted(text))")
        }
        return Int64(date.timeIntervalSince1970 * 1000)
    }

    /// The pinned clock, or the system's.
    public static func clock(_ environment: [String: String]) throws -> any Clock {
        try millis(environment).map { FixedClock(millis: $0) } ?? SystemClock()
    }
}
